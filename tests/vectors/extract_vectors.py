#!/usr/bin/python3
"""extract_vectors: cuts the DNS exchanges of scripts/capture-vectors out of a classic pcap (linktype
Ethernet, as tcpdump writes for lo) into .bin files, checks the sizes the seed fixes, cross-checks each
answer against what dig or kdig printed for it, and writes README.md and index.tsv.

Standard library only (no scapy): the pcap, Ethernet/IP/UDP/TCP and DNS headers are parsed here, just far
enough to find each payload and to describe it in the README table.
"""
import argparse
import re
import struct
import sys
from pathlib import Path

LINKTYPE_ETHERNET = 1
ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD
PROTO_TCP, PROTO_UDP = 6, 17


def read_pcap(path):
    """Yields (timestamp, frame bytes) for each record of a classic pcap; refuses truncated records."""
    data = Path(path).read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit("extract_vectors: not a classic pcap (pcapng is not read here)")
    nanoseconds = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        sys.exit(f"extract_vectors: linktype {linktype}, expected Ethernet (1)")
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, caplen, origlen = struct.unpack(endian + "IIII", data[offset:offset + 16])
        offset += 16
        if caplen != origlen:
            sys.exit("extract_vectors: truncated record in capture (snaplen too small)")
        yield seconds + fraction / (1e9 if nanoseconds else 1e6), data[offset:offset + caplen]
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
    """All packets between one client port and one server port: UDP datagrams, TCP segments of each direction."""

    def __init__(self):
        self.family = None
        self.transports = set()
        self.udp = {"query": [], "response": []}
        self.tcp = {"query": {}, "response": {}}  # seq -> payload; retransmissions collapse
        self.tcp_isn = {}
        self.first_seen = self.last_seen = None

    def add(self, when, family, transport, direction, seq, flags, payload, frame):
        self.first_seen = when if self.first_seen is None else self.first_seen
        self.last_seen = when
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
        start = expected if expected is not None else min(self.tcp[direction], default=0)
        for seq in sorted(self.tcp[direction], key=lambda seq: (seq - start) & 0xFFFFFFFF):  # seq may wrap
            if expected is not None and seq != expected:
                sys.exit("extract_vectors: gap in a TCP stream")
            stream += self.tcp[direction][seq]
            expected = (seq + len(self.tcp[direction][seq])) & 0xFFFFFFFF
        messages = []
        while len(stream) >= 2:
            length = struct.unpack("!H", stream[:2])[0]
            if len(stream) < 2 + length:
                sys.exit("extract_vectors: a TCP stream ends inside a message")
            messages.append(stream[2:2 + length])
            stream = stream[2 + length:]
        return messages


def collect(pcap, server_ports):
    """Exchanges keyed by (client port, server port); traffic between the two servers is kept too, unused."""
    exchanges = {}
    for when, frame in read_pcap(pcap):
        parsed = parse_frame(frame)
        if parsed is None:
            continue
        family, transport, sport, dport, seq, flags, payload = parsed
        if dport in server_ports:
            direction, key = "query", (sport, dport)
        elif sport in server_ports:
            direction, key = "response", (dport, sport)
        else:
            continue
        exchanges.setdefault(key, Exchange()).add(when, family, transport, direction, seq, flags, payload, frame)
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
EDNS_OPTIONS = {3: "NSID", 8: "ECS", 9: "EXPIRE", 10: "COOKIE", 11: "KEEPALIVE", 12: "PADDING", 15: "EDE"}
TYPES.update({12: "PTR", 65: "HTTPS"})


def skip_name(msg, offset):
    """Offset just past the (possibly compressed) name at offset."""
    while True:
        length = msg[offset]
        if length >= 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def presentation_label(label):
    """A label as zone files write it: \\DDD for octets that are not printable, \\. and \\\\ escaped."""
    text = ""
    for octet in label:
        if octet in (0x2E, 0x5C, 0x22, 0x3B, 0x28, 0x29, 0x40, 0x24):
            text += "\\" + chr(octet)
        elif 0x21 <= octet <= 0x7E:
            text += chr(octet)
        else:
            text += f"\\{octet:03d}"
    return text


def read_name(msg, offset):
    labels, hops = [], 0
    while msg[offset] != 0 and hops < 64:
        if msg[offset] >= 0xC0:
            offset = struct.unpack("!H", msg[offset:offset + 2])[0] & 0x3FFF
            hops += 1
            continue
        labels.append(presentation_label(msg[offset + 1:offset + 1 + msg[offset]]))
        offset += 1 + msg[offset]
    return ".".join(labels) + "."


def describe(msg):
    """What a reader needs to know of a message: header fields, question, EDNS; raw values and text."""
    ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    names = ["qr", "aa", "tc", "rd", "ra", "z", "ad", "cd"]
    bits = [15, 10, 9, 8, 7, 6, 5, 4]
    info = {
        "size": len(msg), "id": ident, "flags_raw": flags, "qd": qd, "an": an, "ns": ns, "ar": ar,
        "flags": " ".join(n for n, b in zip(names, bits) if flags & (1 << b)) or "-",
        "opcode": OPCODES.get((flags >> 11) & 0xF, str((flags >> 11) & 0xF)),
        "rcode_raw": flags & 0xF,
        "counts": f"{qd}/{an}/{ns}/{ar}",
        "qname": "-", "qtype": 0, "qclass": 0,
        "edns": "no EDNS", "edns_version": -1, "edns_udp": 0, "edns_do": 0, "edns_options": "-",
    }
    offset = 12
    for _ in range(qd):
        info["qname"] = read_name(msg, offset)
        offset = skip_name(msg, offset)
        info["qtype"], info["qclass"] = struct.unpack("!HH", msg[offset:offset + 4])
        offset += 4
    for index in range(an + ns + ar):
        offset = skip_name(msg, offset)
        rtype, rclass, ttl, rdlength = struct.unpack("!HHIH", msg[offset:offset + 10])
        rdata = msg[offset + 10:offset + 10 + rdlength]
        offset += 10 + rdlength
        if rtype == 41 and index >= an + ns:
            info["rcode_raw"] |= (ttl >> 24) << 4
            info.update(describe_opt(rclass, ttl, rdata))
    if offset != len(msg):
        sys.exit(f"extract_vectors: a message of {len(msg)} bytes ends at {offset}")
    info["rcode"] = RCODES.get(info["rcode_raw"], str(info["rcode_raw"]))
    return info


def describe_opt(udp_size, ttl, rdata):
    options, offset = [], 0
    while offset + 4 <= len(rdata):
        code, length = struct.unpack("!HH", rdata[offset:offset + 4])
        options.append((code, length))
        offset += 4 + length
    text = [f"v{(ttl >> 16) & 0xFF} udp {udp_size}"] + (["DO"] if ttl & 0x8000 else [])
    text += [f"{EDNS_OPTIONS.get(code, f'opt{code}')}({length})" for code, length in options]
    return {
        "edns": " ".join(text), "edns_version": (ttl >> 16) & 0xFF, "edns_udp": udp_size,
        "edns_do": 1 if ttl & 0x8000 else 0,
        "edns_options": ",".join(f"{code}:{length}" for code, length in options) or "-",
    }


INDEX_COLUMNS = ["name", "server", "transport", "family", "tool"] + [
    f"{side}_{field}" for side in ("query", "response") for field in (
        "size", "id", "flags", "rcode", "qdcount", "ancount", "nscount", "arcount", "qname", "qtype", "qclass",
        "edns_version", "edns_udp", "edns_do", "edns_options")]


def index_fields(info):
    """One side of an index.tsv line; flags as the 16-bit header word in hex, rcode with the EDNS bits."""
    return [str(info["size"]), str(info["id"]), f"0x{info['flags_raw']:04x}", str(info["rcode_raw"]),
            str(info["qd"]), str(info["an"]), str(info["ns"]), str(info["ar"]), info["qname"], str(info["qtype"]),
            str(info["qclass"]), str(info["edns_version"]), str(info["edns_udp"]), str(info["edns_do"]),
            info["edns_options"]]


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

{count} vectors. Everything here except `extract_vectors.py`, `zones/` and `.gitignore` is generated, this README
included: do not edit by hand. Re-create it all (as root; tcpdump needs it) with:

    scripts/capture-vectors

The script writes private named.conf files in a temp dir and starts two BIND servers on 127.0.0.1 and ::1:

- **auth** (port {auth_port}), the seed's target server: authoritative for the seed's zone
  `examples/zones/onprem.com.zone` (onprem.com, plus `large` with 100 A records) and the extra zones in
  `tests/vectors/zones/`: onprem.central.com (CNAMEs in and out of zone, AAAA, TXT up to 255 octets, MX,
  wildcard, delegations with and without glue), 31.172.in-addr.arpa (PTR), broken.test (fails to load: names
  in it get SERVFAIL). `recursion no`, `allow-transfer {{ none; }}`, `max-udp-size 4096`, `edns-udp-size 4096`,
  `server-id "vectors.vpcdns"` (NSID), `rrset-order {{ order none; }}` (zone order: 172.31.55.18 first, as in
  the seed), `response-padding {{ any; }} block-size 128`. Its answers carry AA and no RA.
- **res** (port {resolver_port}), a forwarding resolver in front of auth, shaped like the seed's ".2": `recursion
  yes`, `forward only` to auth, `answer-cookie no`, udp 4096. Its answers carry `qr rd ra` and no AA, and its
  sizes are the seed's (59 bytes for www, 66 for t1, 57-byte query and 1,645-byte TCP answer for large).

tcpdump captures lo on both ports; each dig/kdig query goes out from its own client port, and
`extract_vectors.py` (standard library only) cuts each exchange out of the capture by (client port, server
port), checks the seed's sizes, and writes this README. The capture is left as `capture.pcap` (git-ignored)
for `tcpdump -r`; it also holds res's own queries to auth (EDNS 4096 and a cookie whatever the client sent:
the seed's per-hop EDNS).

Captured {date} with: {versions}.

## Files

- `NAME.query.bin`, `NAME.response.bin`: the DNS message exactly (for TCP: without the 2-byte length prefix).
- `NAME.query.frame.bin`, `NAME.response.frame.bin` (UDP only): the whole frame as captured on lo: Ethernet
  header with zero MACs, IPv4 or IPv6, UDP, DNS. One change from the capture: lo does checksum offload, so
  the captured UDP checksum field holds only the pseudo-header sum; the extractor completes it, so every
  frame carries a valid UDP checksum (and its IPv4 header checksum is checked). The pcap keeps the raw ones.
- `index.tsv`: one line per vector with what an independent parser (the extractor's) read from both messages:
  size, id, the 16-bit flags word, rcode (with the EDNS extended bits), the four counts, question name in
  presentation form (`\\DDD` escapes, case as sent), qtype, qclass, EDNS version (-1: no OPT), UDP size, DO,
  and the options as `code:length` (`-`: none). Meant for data-driven parser tests: iterate, parse, compare.
- `res-NAME-upstream`: the query res sent to auth to answer `res-NAME` (none when res answered from its
  cache), captured in the same run: per-hop EDNS as in the seed (udp 4096, DO, CD and a cookie whatever the
  client sent; the large answer crosses this hop over UDP). Its command column reads `(res forwarding)`.
- A vector whose UDP answer had TC=1 and which dig then retried over TCP is split in two: `NAME-udp` and
  `NAME-tcp`.

Query ids, cookies and client ports differ on every run; everything else is stable. For {cross_checked} vectors
the extractor compared its reading of the final answer (rcode, four counts, size) with what dig or kdig printed
for it in the same run, and they agree (the others: upstream exchanges, and answers the tool did not print).
{dnspython}

## Why 1,645 bytes

12 header + 22 question (`large.onprem.com` A IN) + 100 x 16 (compressed owner, A, 60 s) + 11 OPT = 1,645.
The seed's ".2" echoes no DNS cookie. BIND as auth echoes the client cookie plus its own server cookie
(COOKIE option of 24 octets, 28 with its header), so dig's default query gets 1,673 bytes from auth. Flags that
give 1,645 from auth: `+tcp +nocookie` (or `+bufsize=4096 +nocookie` over UDP); from res (answer-cookie no):
plain `dig +qr large.onprem.com`, exactly the seed's command, which gets TC=1 over UDP at bufsize 1232 and
1,645 bytes over TCP. kdig sends no EDNS by default: its TCP answer is 1,634 bytes (no OPT).

## Sizes fixed by the seed

{checks}

## Vectors

Counts are QD/AN/NS/AR (the OPT record counts in AR). Sizes are DNS message bytes. dig sets AD in its
queries by default; BIND echoes AD in some truncated answers.

| vector | server | command (server, port, source added) | question | transport | query bytes | query flags | query EDNS | response bytes | response flags | rcode | counts | response EDNS |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def check_size(what, name, command, actual, expected, checks, failures):
    if expected == "-":
        return
    verdict = "ok" if actual == int(expected) else "MISMATCH"
    checks.append(f"- `{name}` (`{command}`): {what} {actual} bytes, seed says {expected}: {verdict}")
    if verdict != "ok":
        failures.append(f"{name}: {what} is {actual} bytes, expected {expected}")


def describe_vector(out, name, exchange, transport, server, command):
    """Writes one vector and returns its README table row and the descriptions of its two messages."""
    query, response = write_vector(out, name, exchange, transport)
    q, r = describe(query), describe(response)
    opcode = "" if q["opcode"] == "QUERY" else f" opcode {q['opcode']}"
    qtype = TYPES.get(q["qtype"], f"TYPE{q['qtype']}")
    question = "-" if q["qname"] == "-" else f"{q['qname']} {CLASSES.get(q['qclass'], q['qclass'])} {qtype}"
    row = (f"| {name} | {server} | `{command}` | {question} | {transport}/IPv{exchange.family} | {q['size']} | "
           f"{q['flags']} | {q['edns']}{opcode} | {r['size']} | {r['flags']} | {r['rcode']} | {r['counts']} | "
           f"{r['edns']} |")
    index = "\t".join([name, server, transport, str(exchange.family), command.split()[0]]
                      + index_fields(q) + index_fields(r))
    return row, index, q, r


DIG_REPORT = re.compile(r"status: (\w+),.*?\n;; flags: [^;]*; QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), "
                        r"ADDITIONAL: (\d+)(?:(?!status: ).)*?MSG SIZE\s+rcvd: (\d+)", re.S)
KDIG_REPORT = re.compile(r"status: (\w+);.*?\n;; Flags: [^;]*; QUERY: (\d+); ANSWER: (\d+); AUTHORITY: (\d+); "
                         r"ADDITIONAL: (\d+)(?:(?!status: ).)*?Received (\d+) B", re.S)


def check_against_tool(report_file, name, response, failures):
    """Compares what this parser read with what dig or kdig itself printed for the same answer.

    Two parsers agreeing on rcode, counts and size is the evidence that the vectors were cut out right.
    Returns False when the tool printed no answer to compare with (AXFR refusal, for one)."""
    path = Path(report_file)
    if not path.exists():
        return False
    text = path.read_text(errors="replace")
    reports = (DIG_REPORT if "<<>> DiG" in text else KDIG_REPORT).findall(text)
    if not reports:
        return False
    status, qd, an, ns, ar, size = reports[-1]
    printed = (status, int(qd), int(an), int(ns), int(ar), int(size))
    parsed = (response["rcode"], response["qd"], response["an"], response["ns"], response["ar"], response["size"])
    if printed != parsed:
        failures.append(f"{name}: the tool printed {printed}, the capture holds {parsed}")
    return True


def check_with_dnspython(out, report):
    """A third, independent parser (Debian's python3-dnspython, if installed) must read every message the
    same way: id, rcode with its EDNS bits, EDNS version and UDP size, question name. Returns a README line."""
    try:
        import dns.message  # pylint: disable=import-outside-toplevel
        import dns.version  # pylint: disable=import-outside-toplevel
    except ImportError:
        return "dnspython is not installed (apt-get install python3-dnspython): that check was skipped."
    columns, checked = INDEX_COLUMNS, 0
    for line in report.index_lines:
        fields = dict(zip(columns, line.split("\t")))
        for side in ("query", "response"):
            message = dns.message.from_wire((out / f"{fields['name']}.{side}.bin").read_bytes())
            parsed = (message.id, message.rcode(), message.edns, message.payload if message.edns >= 0 else 0,
                      str(message.question[0].name) if message.question else "-")
            expected = (int(fields[f"{side}_id"]), int(fields[f"{side}_rcode"]),
                        int(fields[f"{side}_edns_version"]), int(fields[f"{side}_edns_udp"]), fields[f"{side}_qname"])
            if parsed != expected:
                report.failures.append(f"{fields['name']}.{side}: dnspython reads {parsed}, we read {expected}")
            checked += 1
    return (f"dnspython {dns.version.version} parsed all {checked} messages and read the same id, rcode, EDNS "
            "version, UDP size and question name as the extractor.")


def upstream_exchanges(exchanges, used, resolver_vectors, auth_port):
    """The queries res sent to auth while answering each res vector: NAME-upstream (-2, -3 if several).

    Vectors run one after another, so an exchange with auth that starts while a client waits on res belongs to
    that client's query; one that starts at no such time (a cache refresh) is left out."""
    for name, client in resolver_vectors:
        found = sorted((exchange.first_seen, key) for key, exchange in exchanges.items()
                       if key[1] == auth_port and key not in used
                       and client.first_seen <= exchange.first_seen <= client.last_seen)
        for number, (_, key) in enumerate(found, start=1):
            upstream = exchanges[key]
            for transport in sorted(upstream.transports, reverse=True):
                if complete(upstream, transport):
                    suffix = "" if number == 1 else f"-{number}"
                    suffix += "" if len(upstream.transports) == 1 else f"-{transport.lower()}"
                    yield f"{name}-upstream{suffix}", upstream, transport


class Report:
    """What the run found: README rows, index.tsv lines, size checks, and everything that failed."""

    def __init__(self):
        self.rows, self.index_lines, self.checks, self.failures = [], [], [], []
        self.cross_checked = 0

    def add(self, row_and_index):
        row, index = row_and_index
        self.rows.append(row)
        self.index_lines.append(index)


def client_vectors(args, exchanges, out, report):
    """Writes the vectors of the manifest; returns the exchanges used and the res vectors (name, exchange)."""
    server_names = {args.auth_port: "auth", args.resolver_port: "res"}
    used, resolver_vectors = set(), []
    for line in Path(args.manifest).read_text().splitlines():
        name, server_port, client_port, query_bytes, response_bytes, command = line.split("\t")
        key = (int(client_port), int(server_port))
        exchange = exchanges.get(key)
        if exchange is None:
            report.failures.append(f"{name}: no packet from client port {client_port}")
            continue
        used.add(key)
        if key[1] == args.resolver_port:
            resolver_vectors.append((name, exchange))
        # A UDP answer with TC=1 followed by dig's retry over TCP gives two vectors: NAME-udp and NAME-tcp.
        transports = sorted(exchange.transports, reverse=True)
        for transport in transports:
            vector = name if len(transports) == 1 else f"{name}-{transport.lower()}"
            if not complete(exchange, transport):
                report.failures.append(f"{vector}: no complete {transport} exchange from port {client_port}")
                continue
            row, index, q, r = describe_vector(out, vector, exchange, transport, server_names[key[1]], command)
            report.add((row, index))
            check_size("query", vector, command, q["size"], query_bytes, report.checks, report.failures)
            if transport == transports[-1]:
                check_size("response", vector, command, r["size"], response_bytes, report.checks, report.failures)
                report.cross_checked += check_against_tool(f"{args.tool_output}/{name}.txt", vector, r,
                                                           report.failures)
    return used, resolver_vectors


def main():
    parser = argparse.ArgumentParser()
    for option in ("--pcap", "--manifest", "--out", "--versions", "--date"):
        parser.add_argument(option, required=True)
    parser.add_argument("--tool-output", required=True, help="directory of NAME.txt, what dig/kdig printed")
    parser.add_argument("--auth-port", type=int, required=True)
    parser.add_argument("--resolver-port", type=int, required=True)
    args = parser.parse_args()

    out, report = Path(args.out), Report()
    exchanges = collect(args.pcap, {args.auth_port, args.resolver_port})
    used, resolver_vectors = client_vectors(args, exchanges, out, report)
    for name, upstream, transport in upstream_exchanges(exchanges, used, resolver_vectors, args.auth_port):
        row, index, _, _ = describe_vector(out, name, upstream, transport, "res>auth", "(res forwarding)")
        report.add((row, index))

    dnspython = check_with_dnspython(out, report)
    readme = README_HEAD.format(auth_port=args.auth_port, resolver_port=args.resolver_port, date=args.date,
                                versions=args.versions, count=len(report.rows), dnspython=dnspython,
                                cross_checked=report.cross_checked, checks="\n".join(report.checks))
    (out / "README.md").write_text(readme + "\n".join(report.rows) + "\n")
    (out / "index.tsv").write_text("\t".join(INDEX_COLUMNS) + "\n" + "\n".join(report.index_lines) + "\n")
    print("\n".join(report.checks))
    if report.failures:
        sys.exit("extract_vectors: " + "; ".join(report.failures))
    print(f"extract_vectors: {len(report.rows)} vectors written to {out}")


if __name__ == "__main__":
    main()
