#if Tracing
    import RunnelCore

    /// The OTLP/JSON body of an `ExportTraceServiceRequest` (opentelemetry-proto's
    /// `collector/trace/v1/trace_service.proto`), as OTLP/HTTP takes it with
    /// `Content-Type: application/json`.
    ///
    /// The mapping rules that differ from what a JSON encoder would do by itself
    /// (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): field names are the
    /// proto's lowerCamelCase; trace and span ids are hex strings (not base64); enums (`kind`,
    /// `status.code`) are integers; 64-bit integers (`startTimeUnixNano`, `intValue`) are strings.
    enum OTLPJSON {
        /// `SPAN_KIND_INTERNAL`: the batch's steps are in-process work.
        static let kindInternal: Int64 = 1
        static let statusOK: Int64 = 1
        static let statusError: Int64 = 2

        static func request(_ spans: [Span], serviceName: String, resource: [(String, String)]) -> [UInt8] {
            var attributes: [Value] = [keyValue("service.name", .string(serviceName))]
            attributes += resource.map { keyValue($0.0, .string($0.1)) }
            attributes.append(keyValue("telemetry.sdk.name", .string("runnel")))
            attributes.append(keyValue("telemetry.sdk.language", .string("swift")))
            attributes.append(keyValue("telemetry.sdk.version", .string(Runnel.version)))
            let scope = object([("name", .string("runnel")), ("version", .string(Runnel.version))])
            let scopeSpans = object([("scope", scope), ("spans", .array(spans.map(span)))])
            let resourceSpans = object([
                ("resource", object([("attributes", .array(attributes))])), ("scopeSpans", .array([scopeSpans])),
            ])
            var out: [UInt8] = []
            out.reserveCapacity(512 * spans.count)
            JSONText.write(object([("resourceSpans", .array([resourceSpans]))]), into: &out)
            return out
        }

        static func span(_ s: Span) -> Value {
            var fields: [(String, Value)] = [
                ("traceId", .string(s.context.traceIDHex)), ("spanId", .string(s.context.spanIDHex)),
            ]
            if let parent = s.parentSpanID { fields.append(("parentSpanId", .string(TraceContext.hexText(parent)))) }
            fields += [
                ("name", .string(s.name)), ("kind", .int(kindInternal)),
                ("startTimeUnixNano", .string(nanos(s.start))), ("endTimeUnixNano", .string(nanos(s.end))),
                ("attributes", .array(s.attributes.map { keyValue($0.0, $0.1) })),
            ]
            if !s.links.isEmpty {
                fields.append(
                    (
                        "links",
                        .array(
                            s.links.map {
                                object([("traceId", .string($0.traceIDHex)), ("spanId", .string($0.spanIDHex))])
                            })
                    ))
            }
            switch s.status {
            case .unset: break
            case .ok: fields.append(("status", object([("code", .int(statusOK))])))
            case .error(let message):
                fields.append(("status", object([("code", .int(statusError)), ("message", .string(message))])))
            }
            return object(fields)
        }

        private static func anyValue(_ a: Span.Attribute) -> Value {
            switch a {
            case .string(let v): object([("stringValue", .string(v))])
            case .int(let v): object([("intValue", .string(String(v)))])
            case .double(let v) where v.isFinite: object([("doubleValue", .double(v))])
            case .double(let v): object([("stringValue", .string(String(v)))])
            case .bool(let v): object([("boolValue", .bool(v))])
            }
        }

        private static func keyValue(_ key: String, _ value: Span.Attribute) -> Value {
            object([("key", .string(key)), ("value", anyValue(value))])
        }

        private static func nanos(_ t: Timestamp) -> String {
            String(t.microseconds.multipliedReportingOverflow(by: 1_000).partialValue)
        }

        private static func object(_ fields: [(String, Value)]) -> Value {
            .object(Object(keys: fields.map(\.0), values: fields.map(\.1)))
        }
    }
#endif
