"""A loopback TCP relay in front of Tansu, for Debian's librdkafka 2.0.2.

Tansu 0.6.0 writes every top-level tagged field of its ApiVersions v3+ response, default values
included (SupportedFeatures, FinalizedFeaturesEpoch, FinalizedFeatures, ZkMigrationReady);
Apache Kafka leaves fields at their defaults out. librdkafka 2.0.2 misreads that tag section
("Protocol read buffer underflow for ApiVersion v3") and never gets past the handshake (newer
librdkafka reads it). This relay forwards every byte unchanged except that tag section of
ApiVersions responses, which it replaces with an empty one, so the client under test is the
library the image ships. Nothing else in the protocol is touched.

    python3 kafka_compat_proxy.py LISTEN_PORT BROKER_PORT
        [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]

With --tls-cert and --tls-key the listening side speaks TLS with that certificate (PEM) and key,
for tests of a client's TLS settings (Tansu's own TLS cannot sit behind a relay that rewrites
bytes); with --tls-client-ca it also requires a client certificate signed by that CA. The broker
side stays plaintext. Without them the relay is plain TCP, as scripts/services/kafka.sh runs it.
"""

import argparse
import asyncio
import ssl
import struct

API_VERSIONS = 18


def read_uvarint(data, pos):
    shift = value = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def strip_tags(frame):
    """An ApiVersions v3+ response (after the length prefix) with its top-level tags emptied."""
    pos = 4 + 2  # correlation id (response header v0), error code
    count, pos = read_uvarint(frame, pos)
    for _ in range(max(count - 1, 0)):
        pos += 6  # api key, min and max version
        tags, pos = read_uvarint(frame, pos)
        for _ in range(tags):
            _, pos = read_uvarint(frame, pos)
            size, pos = read_uvarint(frame, pos)
            pos += size
    pos += 4  # throttle time
    return frame[:pos] + b"\x00"


async def client_to_broker(reader, writer, pending):
    while True:
        head = await reader.readexactly(4)
        (size,) = struct.unpack(">i", head)
        body = await reader.readexactly(size)
        key, version, correlation = struct.unpack(">hhi", body[:8])
        if key == API_VERSIONS and version >= 3:
            pending.add(correlation)
        writer.write(head + body)
        await writer.drain()


async def broker_to_client(reader, writer, pending):
    while True:
        head = await reader.readexactly(4)
        (size,) = struct.unpack(">i", head)
        body = await reader.readexactly(size)
        (correlation,) = struct.unpack(">i", body[:4])
        if correlation in pending:
            pending.discard(correlation)
            body = strip_tags(body)
            head = struct.pack(">i", len(body))
        writer.write(head + body)
        await writer.drain()


async def relay(client_reader, client_writer, broker_port):
    try:
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", broker_port)
    except OSError:
        client_writer.close()
        return
    pending = set()
    tasks = [
        asyncio.ensure_future(client_to_broker(client_reader, broker_writer, pending)),
        asyncio.ensure_future(broker_to_client(broker_reader, client_writer, pending)),
    ]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in tasks:
        t.cancel()
    for w in (client_writer, broker_writer):
        w.close()


def tls_context(args):
    """The listening side's TLS settings, or None for plain TCP."""
    if args.tls_cert is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    if args.tls_client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=args.tls_client_ca)
    return context


def parse_arguments():
    parser = argparse.ArgumentParser(description="A relay in front of Tansu for librdkafka 2.0.2")
    parser.add_argument("listen_port", type=int)
    parser.add_argument("broker_port", type=int)
    parser.add_argument("--tls-cert", help="PEM certificate: the listening side speaks TLS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", help="PEM CA: clients need a certificate it signed")
    args = parser.parse_args()
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_client_ca is not None and args.tls_cert is None:
        parser.error("--tls-client-ca needs --tls-cert and --tls-key")
    return args


async def main():
    args = parse_arguments()
    broker_port = args.broker_port
    server = await asyncio.start_server(
        lambda r, w: relay(r, w, broker_port), "127.0.0.1", args.listen_port, limit=1 << 20,
        ssl=tls_context(args),
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
