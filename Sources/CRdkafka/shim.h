#include <librdkafka/rdkafka.h>

// rd_kafka_producev is variadic, which Swift cannot call: one typed wrapper for what the
// producer sends (topic, partition, key, value, headers, a timestamp in milliseconds since the
// epoch or 0 for now, a per-message opaque). On success the
// headers belong to librdkafka; on failure they stay the caller's to destroy.
static inline rd_kafka_resp_err_t runnel_kafka_produce(
    rd_kafka_t *rk, const char *topic, int32_t partition,
    const void *key, size_t key_len, void *value, size_t value_len,
    rd_kafka_headers_t *headers, int64_t timestamp, void *opaque) {
    return rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE(value, value_len),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

// The element of a partition list, which Swift sees only as a pointer plus index arithmetic.
static inline rd_kafka_topic_partition_t *runnel_kafka_partition_at(
    rd_kafka_topic_partition_list_t *list, int i) {
    return &list->elems[i];
}
