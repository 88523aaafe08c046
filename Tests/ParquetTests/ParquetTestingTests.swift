import Foundation
import Parquet
import Testing

/// The Apache parquet-testing files (`../shared/testdata/parquet-testing`): every file the module
/// reads must equal pyarrow's reading; every file it does not read must be reported as an
/// unsupported feature (or be one pyarrow rejects too); every `bad_data/` file must be rejected.
/// Prints a pass table per file.
struct ParquetTestingTests {
    enum Outcome {
        case read(schema: [ParquetField], groups: [[ParquetColumn]])
        case failed(ParquetError)
        case other(any Error)
    }

    static func read(_ path: String) async -> Outcome {
        do {
            let (schema, groups) = try await Support.readAll(path)
            return .read(schema: schema, groups: groups)
        } catch let e as ParquetError {
            return .failed(e)
        } catch {
            return .other(error)
        }
    }

    /// Files read with values equal to pyarrow's: a regression in any of these fails the test.
    static let mustPass: Set<String> = [
        "alltypes_dictionary", "alltypes_plain", "alltypes_plain.snappy", "alltypes_tiny_pages", "binary",
        "byte_array_decimal", "byte_stream_split.zstd", "concatenated_gzip_members", "datapage_v1-corrupt-checksum",
        "datapage_v1-uncompressed-checksum", "datapage_v2_empty_datapage.snappy", "delta_binary_packed",
        "delta_byte_array",
        "delta_encoding_required_column", "delta_length_byte_array", "dict-page-offset-zero", "fixed_length_byte_array",
        "fixed_length_decimal", "fixed_length_decimal_legacy", "int32_decimal", "int64_decimal", "int96_from_spark",
        "nan_in_stats", "plain-dict-uncompressed-checksum", "rle-dict-snappy-checksum", "rle_boolean_encoding",
        "single_nan", "float16_nonzeros_and_nans", "float16_zeros_and_nans", "column_chunk_key_value_metadata",
        "nation.dict-malformed", "binary_truncated_min_max", "data_index_bloom_encoding_stats",
        "data_index_bloom_encoding_with_length", "floating_orders_nan_count", "page_v2_empty_compressed",
        "sort_columns",
        "unknown-logical-type", "rle-dict-uncompressed-corrupt-checksum", "concatenated_gzip_members",
        "rle_boolean_encoding",
    ]

    @Test func dataFiles() async throws {
        guard let base = Support.parquetTesting else {
            print(
                "parquet-testing: skipped — no ../shared/testdata/parquet-testing beside the checkout (CI lays it there)"
            )
            return
        }
        if let missing = Support.missingPython(["pyarrow"]) {
            print("parquet-testing: skipped — python module \(missing) missing (scripts/test installs it with pip)")
            return
        }
        let dir = base + "/data"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".parquet") }
            .sorted()
        #expect(files.count > 40)
        var table = ["file                                            result"]
        var counts: [String: Int] = [:]
        var passed: Set<String> = []
        let references = try Support.dumpMany(files.map { dir + "/" + $0 })
        for (file, (reference, referenceError)) in zip(files, references) {
            let name = String(file.dropLast(".parquet".count))
            let path = dir + "/" + file
            let outcome = await Self.read(path)
            let result: String
            switch outcome {
            case .read(let schema, let groups):
                if let reference {
                    let problems = Support.compare(schema: schema, groups: groups, with: reference)
                    if problems.isEmpty {
                        result = "pass (\(reference.rows.count) rows, \(schema.count) columns)"
                        passed.insert(name)
                        counts["pass", default: 0] += 1
                    } else {
                        result = "MISMATCH: " + problems.joined(separator: "; ")
                        counts["mismatch", default: 0] += 1
                        Issue.record("\(file): values differ from pyarrow's: \(problems.joined(separator: "; "))")
                    }
                } else {
                    result = "read; pyarrow cannot (\(referenceError))"
                    counts["read, pyarrow cannot", default: 0] += 1
                }
            case .failed(let e) where e.code == .unsupported:
                result = "unsupported: \(e)"
                counts["unsupported", default: 0] += 1
            case .failed(let e):
                if reference == nil {
                    result = "rejected, as pyarrow does: \(e)"
                    counts["rejected (pyarrow too)", default: 0] += 1
                } else {
                    result = "FAIL: \(e)"
                    counts["fail", default: 0] += 1
                    Issue.record("\(file): pyarrow reads it, the module says \(e)")
                }
            case .other(let e):
                result = "FAIL (not a ParquetError): \(e)"
                counts["fail", default: 0] += 1
                Issue.record("\(file): \(e)")
            }
            table.append(name.padded(48) + result)
        }
        print("parquet-testing data/ (\(dir)):\n" + table.joined(separator: "\n"))
        print("summary: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        for name in Self.mustPass.sorted() { #expect(passed.contains(name), "\(name) no longer reads as pyarrow does") }
    }

    @Test func badDataIsRejected() async throws {
        guard let base = Support.parquetTesting else {
            print("parquet-testing bad_data: skipped — no ../shared/testdata/parquet-testing")
            return
        }
        let dir = base + "/bad_data"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".parquet") }
            .sorted()
        #expect(!files.isEmpty)
        var table = ["file                                  result"]
        // A file pyarrow reads (ARROW-GH-43605 crashed an older reader) may be read, to pyarrow's values.
        let references =
            Support.missingPython(["pyarrow"]) == nil ? try Support.dumpMany(files.map { dir + "/" + $0 }) : []
        for (i, file) in files.enumerated() {
            let started = ContinuousClock.now
            let outcome = await Self.read(dir + "/" + file)
            let elapsed = ContinuousClock.now - started
            switch outcome {
            case .read(let schema, let groups):
                if i < references.count, let reference = references[i].0 {
                    let problems = Support.compare(schema: schema, groups: groups, with: reference)
                    #expect(problems.isEmpty, "\(file): \(problems)")
                    table.append(
                        file.padded(38)
                            + (problems.isEmpty ? "read, equal to pyarrow (which reads it too)" : "MISMATCH"))
                } else {
                    Issue.record("\(file) was read without an error")
                }
            case .other(let e): Issue.record("\(file): not a ParquetError: \(e)")
            case .failed(let e): table.append(file.padded(38) + "rejected: \(e)")
            }
            #expect(elapsed < .seconds(10), "\(file) took \(elapsed)")
        }
        print("parquet-testing bad_data/:\n" + table.joined(separator: "\n"))
    }
}
