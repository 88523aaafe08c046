#if Kafka
    import KafkaClient
    import Testing

    struct ConfigurationTests {
        @Test func librdkafkaRejectsAnUnknownPropertyWithItsOwnMessage() {
            var c = KafkaConfiguration(brokers: ["127.0.0.1:9092"])
            c.properties["fetch.max.byte"] = "10"
            #expect {
                try c.validate()
            } throws: { error in
                let e = error as! KafkaError
                return e.code == .invalidConfiguration && e.message.contains("fetch.max.byte")
                    && e.message.contains("No such configuration property")
            }
        }

        @Test func librdkafkaRejectsAnInvalidValue() {
            var c = KafkaConfiguration(brokers: ["127.0.0.1:9092"])
            c.properties["session.timeout.ms"] = "soon"
            #expect(throws: KafkaError.self) { try c.validate() }
        }

        @Test func secretsAreNeverInTheDescriptionOrTheError() {
            var c = KafkaConfiguration(brokers: ["b:9093"])
            c.sasl = .init(mechanism: .scramSHA512, username: "runnel", password: "hunter2")
            c.tls = .init(caFile: "/ca.pem", keyPassword: "keypass")
            #expect(!c.description.contains("hunter2"))
            #expect(!c.description.contains("keypass"))
            #expect(c.description.contains("security.protocol=sasl_ssl"))
            #expect(c.description.contains("sasl.mechanisms=SCRAM-SHA-512"))
            // An invalid secret value: the message names the property, not the value.
            c.properties["ssl.key.password"] = String(repeating: "x", count: 3)
            c.properties["sasl.mechanisms"] = "NOPE-hunter2"
            do {
                try c.validate()
            } catch {
                #expect(!error.message.contains("keypass"))
            }
        }

        @Test func validConsumerAndProducerSettingsPass() throws {
            var c = KafkaConfiguration(brokers: ["127.0.0.1:9092"], clientID: "pod-1")
            c.properties["fetch.max.bytes"] = "1048576"
            try KafkaConsumer.Configuration(client: c, group: "g").validate()
            try KafkaProducer.Configuration(client: c).validate()
        }
    }
#endif
