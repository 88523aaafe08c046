import RunnelCore

/// The `Retry-After` header (RFC 9110 §10.2.3): a number of seconds, or an HTTP-date.
enum RetryAfter {
    /// The wait the header asks for, measured from `now`; nil when the header is absent or not
    /// understood (the caller falls back to its back-off). A date in the past means no wait.
    static func delay(_ header: String?, now: Timestamp) -> Duration? {
        guard let text = header?.trimmingCharacters(in: " \t"), !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let seconds = Int64(text) else { return nil }
            return .seconds(seconds)
        }
        guard let date = httpDate(text) else { return nil }
        let micros = max(0, date.microseconds - now.microseconds)
        return .microseconds(micros)
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Parses the three HTTP-date forms: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
    /// obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
    static func httpDate(_ text: String) -> Timestamp? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        var day: Int?
        var month: Int?
        var year: Int64?
        var time: String?
        if words.count >= 3, words[1].contains("-") {
            // RFC 850: the date's parts joined by '-', a two-digit year.
            let d = words[1].split(separator: "-")
            guard d.count == 3 else { return nil }
            day = Int(d[0])
            month = months.firstIndex(of: d[1].lowercased()).map { $0 + 1 }
            year = Int64(d[2]).map { $0 < 70 ? 2000 + $0 : ($0 < 100 ? 1900 + $0 : $0) }
            time = words[2]
        } else if words.count >= 5, Int(words[1]) != nil {
            day = Int(words[1])
            month = months.firstIndex(of: words[2].lowercased()).map { $0 + 1 }
            year = Int64(words[3])
            time = words[4]
        } else if words.count >= 5 {
            month = months.firstIndex(of: words[1].lowercased()).map { $0 + 1 }
            day = Int(words[2])
            time = words[3]
            year = Int64(words[4])
        }
        guard let day, let month, let year, let time else { return nil }
        let hms = time.split(separator: ":").compactMap { Int64($0) }
        guard hms.count == 3, (1...31).contains(day), hms[0] < 24, hms[1] < 60, hms[2] < 61 else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        return Timestamp(seconds: days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
