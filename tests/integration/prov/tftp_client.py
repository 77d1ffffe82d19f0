#!/usr/bin/env python3
"""A TFTP client that sends exactly the request it is told to, for the tests that tftp-hpa
cannot express: options (blksize, tsize, timeout, windowsize), oversize requests, many
transfers at once. Prints one line: "ok <bytes> <sha256> <oack>" or "error <code> <message>".

usage: tftp_client.py PORT NAME [option=value ...] [--mode MODE] [--pad N] [--parallel N]
"""
import hashlib
import socket
import struct
import sys


def request(name, mode, opts, pad):
    pkt = b"\0\1" + name.encode() + b"\0" + mode.encode() + b"\0"
    for k, v in opts:
        pkt += k.encode() + b"\0" + v.encode() + b"\0"
    if pad:
        pkt += b"x" * pad + b"\0" + b"1\0"
    return pkt


def fetch(port, pkt, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(pkt, ("127.0.0.1", port))
    data, blksize, window, expect, oack = b"", 512, 1, 1, "-"
    try:
        while True:
            p, addr = s.recvfrom(70000)
            op = struct.unpack("!H", p[:2])[0]
            if op == 5:
                return "error %d %s" % (struct.unpack("!H", p[2:4])[0], p[4:-1].decode())
            if op == 6:
                fields = p[2:].split(b"\0")[:-1]
                o = dict(zip(fields[::2], fields[1::2]))
                oack = ",".join("%s=%s" % (k.decode(), v.decode()) for k, v in o.items())
                blksize = int(o.get(b"blksize", 512))
                window = int(o.get(b"windowsize", 1))
                s.sendto(b"\0\4\0\0", addr)
                continue
            block = struct.unpack("!H", p[2:4])[0]
            if block != expect & 0xFFFF:
                continue
            data += p[4:]
            expect += 1
            last = len(p) - 4 < blksize
            if last or block % window == 0:
                s.sendto(b"\0\4" + p[2:4], addr)
            if last:
                return "ok %d %s %s" % (len(data), hashlib.sha256(data).hexdigest(), oack)
    except socket.timeout:
        return "timeout"
    finally:
        s.close()


def main():
    args = sys.argv[1:]
    port, name = int(args[0]), args[1]
    mode, pad, parallel, opts = "octet", 0, 1, []
    i = 2
    while i < len(args):
        if args[i] == "--mode":
            mode, i = args[i + 1], i + 2
        elif args[i] == "--pad":
            pad, i = int(args[i + 1]), i + 2
        elif args[i] == "--parallel":
            parallel, i = int(args[i + 1]), i + 2
        else:
            k, v = args[i].split("=", 1)
            opts.append((k, v))
            i += 1
    pkt = request(name, mode, opts, pad)
    if parallel == 1:
        print(fetch(port, pkt))
        return
    # Many requests at once from one address: send them all, then answer each transfer.
    socks = []
    for _ in range(parallel):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(pkt, ("127.0.0.1", port))
        socks.append(s)
    results = {}
    for s in socks:
        p, addr = s.recvfrom(70000)
        op = struct.unpack("!H", p[:2])[0]
        if op == 5:
            results.setdefault("refused", 0)
            results["refused"] += 1
        else:
            results.setdefault("started", 0)
            results["started"] += 1
            # Abort politely, which ends the transfer on the server at once.
            s.sendto(b"\0\5\0\0aborted\0", addr)
    for s in socks:
        s.close()
    print(" ".join("%s=%d" % kv for kv in sorted(results.items())))


main()
