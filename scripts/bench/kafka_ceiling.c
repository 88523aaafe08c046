/*
 * The ceiling for scripts/bench/kafka.sh: a bare librdkafka high-level consumer that reads a
 * topic as a group member and discards every message (it only sums the payload sizes and first
 * bytes, so that nothing is optimized away). No parsing, no SQLite, no offset commits: what the
 * broker, the relay in front of it and librdkafka deliver to one consumer on this machine.
 *
 *     cc -O2 -o kafka_ceiling kafka_ceiling.c -lrdkafka
 *     kafka_ceiling BROKERS TOPIC GROUP COUNT [NAME=VALUE ...]
 *
 * It uses the consumer properties Runnel's Kafka extractor sets (KafkaClient's KafkaConsumer:
 * enable.auto.commit and enable.auto.offset.store false, auto.offset.reset earliest,
 * cooperative-sticky assignment) and the benchmark pipeline's session.timeout.ms 6000; the
 * confluent-kafka reference sets the same. fetch.wait.max.ms is left at librdkafka's default, as
 * both of those do in the throughput run. More properties may follow as NAME=VALUE.
 *
 * It stops after COUNT messages and prints "COUNT SECONDS RATE" on stdout, SECONDS being from the
 * first message received to the COUNTth (the group join is left out, as on the other two sides),
 * and a readable line on stderr. It fails (exit 1, with the last client error) when 60 seconds
 * pass without a message, before the first one as well as after it.
 */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STALL_SECONDS 60.0

static char last_error[512] = "";

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Client-level errors (connection refused, all brokers down, ...), served by consumer_poll. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    snprintf(last_error, sizeof last_error, "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512];
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        fprintf(stderr, "kafka_ceiling: fatal client error: %s\n", fatal);
        exit(1);
    }
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_ceiling: %s=%s: %s\n", name, value, errstr);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s BROKERS TOPIC GROUP COUNT [NAME=VALUE ...]\n", argv[0]);
        return 2;
    }
    const char *brokers = argv[1], *topic = argv[2], *group = argv[3];
    char *end;
    long long count = strtoll(argv[4], &end, 10);
    if (*end != '\0' || count <= 0) {
        fprintf(stderr, "kafka_ceiling: COUNT must be a positive integer, not '%s'\n", argv[4]);
        return 2;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    set(conf, "group.id", group);
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "partition.assignment.strategy", "cooperative-sticky");
    set(conf, "session.timeout.ms", "6000");
    for (int i = 5; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "kafka_ceiling: expected NAME=VALUE, not '%s'\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        set(conf, argv[i], eq + 1);
    }
    rd_kafka_conf_set_error_cb(conf, on_error);

    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "kafka_ceiling: cannot create the consumer: %s\n", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        fprintf(stderr, "kafka_ceiling: subscribe to %s failed: %s\n", topic, rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return 1;
    }

    long long received = 0;
    unsigned long long bytes = 0, checksum = 0;
    double subscribed = now_seconds(), first = 0, last = 0, progress = subscribed;
    while (received < count) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        double t = now_seconds();
        if (m == NULL) {
            if (t - progress > STALL_SECONDS) {
                fprintf(stderr, "kafka_ceiling: no message from %s for %.0f s (%lld of %lld received)%s%s\n", brokers,
                        STALL_SECONDS, received, count, last_error[0] ? "; last error: " : "", last_error);
                rd_kafka_destroy(rk); /* no consumer_close: leaving the group could hang as well */
                return 1;
            }
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                snprintf(last_error, sizeof last_error, "%s: %s", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
                fprintf(stderr, "kafka_ceiling: consumer error: %s\n", last_error);
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        if (received == 0) first = t;
        received++;
        last = t;
        progress = t;
        bytes += m->len;
        if (m->len > 0) checksum += ((const unsigned char *)m->payload)[0];
        rd_kafka_message_destroy(m);
    }

    double seconds = last - first;
    /* COUNT / SECONDS, as kafka.sh computes the other two sides' rates. */
    double rate = seconds > 0 ? (double)received / seconds : 0;
    printf("%lld %.3f %.0f\n", received, seconds, rate);
    fflush(stdout);
    fprintf(stderr,
            "kafka_ceiling: %lld messages (%llu payload bytes, checksum %llu) in %.3f s: %.0f msg/s, %.1f MB/s"
            " (not timed: %.2f s from subscribe to the first message)\n",
            received, bytes, checksum, seconds, rate, seconds > 0 ? (double)bytes / seconds / 1e6 : 0, first - subscribed);

    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}
