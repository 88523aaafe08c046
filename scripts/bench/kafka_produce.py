"""Fills a topic for scripts/bench/kafka.sh: COUNT JSON orders keyed by order id.

    python kafka_produce.py BROKERS TOPIC PARTITIONS COUNT
"""

import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

brokers, topic, partitions, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
admin = AdminClient({"bootstrap.servers": brokers})
admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result()
p = Producer({"bootstrap.servers": brokers, "linger.ms": 20, "batch.num.messages": 10000, "queue.buffering.max.messages": 1000000})
statuses = ["new", "paid", "shipped", "cancelled"]
for i in range(1, count + 1):
    value = '{"order_id":%d,"customer":"c%d","amount":%d.25,"status":"%s"}' % (i, i % 1000, i % 500, statuses[i % 4])
    while True:
        try:
            p.produce(topic, key=str(i), value=value)
            break
        except BufferError:
            p.poll(0.05)
    if i % 10000 == 0:
        p.poll(0)
p.flush(60)
