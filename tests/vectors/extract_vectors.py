#!/usr/bin/python3
"""extract_vectors: cuts the DNS exchanges of scripts/capture-vectors out of a classic pcap (linktype
Ethernet, as tcpdump writes for lo) into .bin files, checks the sizes the seed fixes, and writes README.md.

Standard library only (no scapy): the pcap, Ethernet/IP/UDP/TCP and DNS headers are parsed here, just far
enough to find each payload and to describe it in the README table.
"""
import argparse
import struct
import sys
from pathlib import Path

LINKTYPE_ETHERNET = 1
ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD
PROTO_TCP, PROTO_UDP = 6, 17


def read_pcap(path):
    """Yields (frame bytes) of each record of a classic pcap; refuses truncated records."""
    data = Path(path).read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit("extract_vectors: not a classic pcap (pcapng is not read here)")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        sys.exit(f"extract_vectors: linktype {linktype}, expected Ethernet (1)")
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, origlen = struct.unpack(endian + "IIII", data[offset:offset + 16])
        offset += 16
        if caplen != origlen:
            sys.exit("extract_vectors: truncated record in capture (snaplen too small)")
        yield data[offset:offset + caplen]
        offset += caplen


def parse_frame(frame):
    """Returns (family, proto, sport, dport, tcp_seq, tcp_flags, payload) or None for non-IP/other frames."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == ETH_IPV4:
        family, header_len = 4, (ip[0] & 0x0F) * 4
        proto, total = ip[9], struct.unpack("!H", ip[2:4])[0]
        l4 = ip[header_len:total]
    elif ethertype == ETH_IPV6:
        family, proto = 6, ip[6]
        l4 = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]  # lo traffic carries no extension headers
    else:
        return None
    if proto == PROTO_UDP:
        sport, dport, length = struct.unpack("!HHH", l4[:6])
        return family, "UDP", sport, dport, 0, 0, l4[8:length]
    if proto == PROTO_TCP:
        sport, dport, seq = struct.unpack("!HHI", l4[:8])
        data_offset = (l4[12] >> 4) * 4
        return family, "TCP", sport, dport, seq, l4[13], l4[data_offset:]
    return None


class Exchange:
    """All packets of one client port: UDP datagrams, or TCP segments of each direction."""

    def __init__(self):
        self.family = None
        self.transports = set()
        self.udp = {"query": [], "response": []}
        self.tcp = {"query": {}, "response": {}}  # seq -> payload; retransmissions collapse
        self.tcp_isn = {}

    def add(self, family, transport, direction, seq, flags, payload, frame):
        self.family = family
        self.transports.add(transport)
        if transport == "UDP":
            self.udp[direction].append((payload, frame))
            return
        if flags & 0x02:  # SYN: the stream starts at ISN + 1
            self.tcp_isn[direction] = seq + 1
        if payload:
            self.tcp[direction][seq] = payload

    def tcp_messages(self, direction):
        """The stream of one direction, reassembled and split at the 2-byte length prefixes."""
        stream, expected = b"", self.tcp_isn.get(direction)
        for seq in sorted(self.tcp[direction]):
            if expected is not None and seq != expected:
                sys.exit("extract_vectors: gap in a TCP stream")
            stream += self.tcp[direction][seq]
            expected = (seq + len(self.tcp[direction][seq])) & 0xFFFFFFFF
        messages = []
        while len(stream) >= 2:
            length = struct.unpack("!H", stream[:2])[0]
            messages.append(stream[2:2 + length])
            stream = stream[2 + length:]
        return messages


def collect(pcap, server_port):
    exchanges = {}
    for frame in read_pcap(pcap):
        parsed = parse_frame(frame)
        if parsed is None:
            continue
        family, transport, sport, dport, seq, flags, payload = parsed
        if dport == server_port:
            direction, client = "query", sport
        elif sport == server_port:
            direction, client = "response", dport
        else:
            continue
        exchanges.setdefault(client, Exchange()).add(family, transport, direction, seq, flags, payload, frame)
    return exchanges


# --- checksums: lo leaves UDP checksums partial --------------------------------------------------------


def ones_complement_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def with_udp_checksum(frame):
    """The frame with its UDP checksum completed and its IPv4 header checksum verified.

    lo does checksum offload: the kernel stores only the pseudo-header sum in the UDP checksum field and
    nobody ever completes it, so the captured frames would fail any receiver that checks. Everything else
    in the frame stays as captured."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == ETH_IPV4:
        header_len = (ip[0] & 0x0F) * 4
        if ones_complement_sum(ip[:header_len]) != 0xFFFF:
            sys.exit("extract_vectors: bad IPv4 header checksum in capture")
        udp_start = 14 + header_len
        udp_len = struct.unpack("!H", frame[udp_start + 4:udp_start + 6])[0]
        pseudo = ip[12:20] + struct.pack("!BBH", 0, PROTO_UDP, udp_len)
    else:
        udp_start = 14 + 40
        udp_len = struct.unpack("!H", frame[udp_start + 4:udp_start + 6])[0]
        pseudo = ip[8:40] + struct.pack("!I3xB", udp_len, PROTO_UDP)
    udp = bytearray(frame[udp_start:udp_start + udp_len])
    udp[6:8] = b"\0\0"
    checksum = (~ones_complement_sum(pseudo + bytes(udp))) & 0xFFFF
    udp[6:8] = struct.pack("!H", checksum or 0xFFFF)
    return frame[:udp_start] + bytes(udp) + frame[udp_start + udp_len:]


# --- DNS: just enough to describe a message ------------------------------------------------------------

OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 9: "NOTAUTH",
          16: "BADVERS", 23: "BADCOOKIE"}
TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT", 28: "AAAA", 41: "OPT", 252: "AXFR", 255: "ANY"}
CLASSES = {1: "IN", 3: "CH"}
EDNS_OPTIONS = {3: "NSID", 8: "ECS", 10: "COOKIE", 11: "KEEPALIVE", 12: "PADDING"}


def skip_name(msg, offset):
    """Offset just past the (possibly compressed) name at offset."""
    while True:
        length = msg[offset]
        if length >= 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def read_name(msg, offset):
    labels, hops = [], 0
    while msg[offset] != 0 and hops < 64:
        if msg[offset] >= 0xC0:
            offset = struct.unpack("!H", msg[offset:offset + 2])[0] & 0x3FFF
            hops += 1
            continue
        labels.append(msg[offset + 1:offset + 1 + msg[offset]].decode("ascii", "replace"))
        offset += 1 + msg[offset]
    return ".".join(labels) + "."


def describe(msg):
    """A dict of what a reader of the table needs: header flags, rcode, counts, question, EDNS."""
    ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    names = ["qr", "aa", "tc", "rd", "ra", "z", "ad", "cd"]
    bits = [15, 10, 9, 8, 7, 6, 5, 4]
    info = {
        "size": len(msg),
        "flags": " ".join(n for n, b in zip(names, bits) if flags & (1 << b)) or "-",
        "opcode": OPCODES.get((flags >> 11) & 0xF, str((flags >> 11) & 0xF)),
        "rcode": flags & 0xF,
        "counts": f"{qd}/{an}/{ns}/{ar}",
        "question": "-",
        "edns": "no EDNS",
    }
    offset = 12
    for _ in range(qd):
        name = read_name(msg, offset)
        offset = skip_name(msg, offset)
        qtype, qclass = struct.unpack("!HH", msg[offset:offset + 4])
        offset += 4
        info["question"] = f"{name} {CLASSES.get(qclass, qclass)} {TYPES.get(qtype, f'TYPE{qtype}')}"
    for index in range(an + ns + ar):
        offset = skip_name(msg, offset)
        rtype, rclass, ttl, rdlength = struct.unpack("!HHIH", msg[offset:offset + 10])
        rdata = msg[offset + 10:offset + 10 + rdlength]
        offset += 10 + rdlength
        if rtype == 41 and index >= an + ns:
            info["rcode"] |= (ttl >> 24) << 4
            info["edns"] = describe_opt(rclass, ttl, rdata)
    info["rcode"] = RCODES.get(info["rcode"], str(info["rcode"]))
    return info


def describe_opt(udp_size, ttl, rdata):
    parts = [f"v{(ttl >> 16) & 0xFF} udp {udp_size}"]
    if ttl & 0x8000:
        parts.append("DO")
    offset = 0
    while offset + 4 <= len(rdata):
        code, length = struct.unpack("!HH", rdata[offset:offset + 4])
        parts.append(f"{EDNS_OPTIONS.get(code, f'opt{code}')}({length})")
        offset += 4 + length
    return " ".join(parts)


# --- output ---------------------------------------------------------------------------------------------


def write_vector(out, name, exchange, transport):
    """Writes the .bin files of one exchange over one transport; returns (query, response) DNS payloads."""
    if transport == "UDP":
        (query, query_frame), (response, response_frame) = exchange.udp["query"][0], exchange.udp["response"][0]
        (out / f"{name}.query.frame.bin").write_bytes(with_udp_checksum(query_frame))
        (out / f"{name}.response.frame.bin").write_bytes(with_udp_checksum(response_frame))
    else:
        query, response = exchange.tcp_messages("query")[0], exchange.tcp_messages("response")[0]
    (out / f"{name}.query.bin").write_bytes(query)
    (out / f"{name}.response.bin").write_bytes(response)
    return query, response


def complete(exchange, transport):
    if transport == "UDP":
        return exchange.udp["query"] and exchange.udp["response"]
    return exchange.tcp_messages("query") and exchange.tcp_messages("response")


README_HEAD = """# DNS test vectors: real packets from dig and kdig against BIND 9 on loopback

Every file here except this README, `extract_vectors.py` and `zones/` is generated; do not edit by hand.
Re-create them all (as root; tcpdump needs it) with:

    scripts/capture-vectors

The script writes a private named.conf in a temp dir, starts `named` on 127.0.0.1 and ::1 port {port} as
authoritative for the seed's zone `examples/zones/onprem.com.zone` (onprem.com, plus `large` with 100 A records)
and the extra zones in `tests/vectors/zones/` (onprem.central.com with CNAME, AAAA, TXT, MX, wildcard and
delegations; broken.test, which fails to load so names in it get SERVFAIL). named runs with `max-udp-size 4096`
and `edns-udp-size 4096` (the seed's target server), `recursion no`, `server-id "vectors.vpcdns"` (NSID),
`rrset-order {{ order none; }}` and `response-padding {{ any; }} block-size 128`. tcpdump captures lo on that
port; each dig/kdig query goes out from its own client port, and `extract_vectors.py` (standard library only)
cuts each exchange out of the capture by that port, checks the seed's sizes, and writes this README.
The capture itself is left as `capture.pcap` (git-ignored) for `tcpdump -r`.

Captured {date} with: {versions}.

## Files

- `NAME.query.bin`, `NAME.response.bin`: the DNS message exactly (for TCP: without the 2-byte length prefix).
- `NAME.query.frame.bin`, `NAME.response.frame.bin` (UDP only): the whole frame as captured on lo: Ethernet
  header with zero MACs, IPv4 or IPv6, UDP, DNS. One change from the capture: lo does checksum offload, so
  the captured UDP checksum field holds only the pseudo-header sum; the extractor completes it, so every
  frame carries a valid UDP checksum (and its IPv4 header checksum is checked). The pcap keeps the raw ones.

Query ids, cookies and client ports differ on every run; everything else is stable.

## Sizes fixed by the seed

{checks}

## Vectors

Counts are QD/AN/NS/AR (the OPT record counts in AR). Sizes are DNS message bytes.

| vector | command (server, port, source added) | transport | query bytes | query EDNS | response bytes | response flags | rcode | counts | response EDNS |
|---|---|---|---|---|---|---|---|---|---|
"""


def describe_vector(out, name, exchange, transport, expected, command, checks, failures):
    """Writes one vector, checks its expected response size, and returns its README table row."""
    query, response = write_vector(out, name, exchange, transport)
    q, r = describe(query), describe(response)
    if expected != "-":
        verdict = "ok" if r["size"] == int(expected) else "MISMATCH"
        checks.append(f"- `{name}` (`{command}`): response {r['size']} bytes, seed says {expected}: {verdict}")
        if verdict != "ok":
            failures.append(f"{name}: response is {r['size']} bytes, expected {expected}")
    opcode = "" if q["opcode"] == "QUERY" else f" opcode {q['opcode']}"
    return (f"| {name} | `{command}` | {transport}/IPv{exchange.family} | {q['size']} | {q['edns']}{opcode} | "
            f"{r['size']} | {r['flags']} | {r['rcode']} | {r['counts']} | {r['edns']} |")


def main():
    parser = argparse.ArgumentParser()
    for option in ("--pcap", "--manifest", "--out", "--versions", "--date"):
        parser.add_argument(option, required=True)
    parser.add_argument("--server-port", type=int, required=True)
    args = parser.parse_args()

    out = Path(args.out)
    exchanges = collect(args.pcap, args.server_port)
    rows, checks, failures = [], [], []
    for line in Path(args.manifest).read_text().splitlines():
        name, client_port, expected, command = line.split("\t")
        exchange = exchanges.get(int(client_port))
        if exchange is None:
            failures.append(f"{name}: no packet from client port {client_port}")
            continue
        # A UDP answer with TC=1 followed by dig's retry over TCP gives two vectors: NAME-udp and NAME-tcp.
        for transport in sorted(exchange.transports, reverse=True):
            vector = name if len(exchange.transports) == 1 else f"{name}-{transport.lower()}"
            if not complete(exchange, transport):
                failures.append(f"{vector}: no complete {transport} exchange from client port {client_port}")
                continue
            rows.append(describe_vector(out, vector, exchange, transport, expected, command, checks, failures))

    readme = README_HEAD.format(port=args.server_port, date=args.date, versions=args.versions,
                                checks="\n".join(checks))
    (out / "README.md").write_text(readme + "\n".join(rows) + "\n")
    print("\n".join(rows))
    print("\n".join(checks))
    if failures:
        sys.exit("extract_vectors: " + "; ".join(failures))
    print(f"extract_vectors: {len(rows)} vectors written to {out}")


if __name__ == "__main__":
    main()
