#!/usr/bin/env python3
"""EST enrollments per second against a running ucmd, with a SIP OPTIONS probe beside it.

est_bench.py ADMIN_URL CA ADMIN PASSWORD SIP_HOST:PORT KEY COUNT CLIENTS FIRST

Creates COUNT Cisco SIP phones SEP<FIRST+i as 12 hex digits>, each with an install/upgrade
operation by authentication string asking for KEY ("rsa" = RSA 2048, "ec" = P-256), then
CLIENTS threads enroll them over EST at once (HTTP Basic with the string, one TLS connection
per enrollment, as separate devices would). The request is one PKCS#10 without a subject,
reused for every device: the server names the certificate after the authenticated device, and
generating COUNT client keys would measure the client. Meanwhile a probe sends a SIP OPTIONS
over UDP every 20 ms and records how long ucmd takes to answer, to show that the event loop
keeps serving SIP while the workers sign.

Prints one line of results as JSON.
"""
import base64, http.client, json, socket, ssl, statistics, subprocess, sys, threading, time
import urllib.parse

admin_url, ca, user, pw, sip, key, count, clients, first = sys.argv[1:10]
count, clients, first = int(count), int(clients), int(first)
u = urllib.parse.urlparse(admin_url)
ctx = ssl.create_default_context(cafile=ca)
admin_auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def csr_b64(kind):
    gen = (["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
           if kind == "rsa" else
           ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
    pem = subprocess.run(gen, check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "req", "-new", "-key", "/dev/stdin", "-subj", "/",
                          "-outform", "DER"], input=pem, check=True, capture_output=True).stdout
    return base64.b64encode(der)


def provision(names):
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
    for i, name in enumerate(names):
        body = {"name": name, "type": "cisco_sip_phone",
                "capf_certificate_operation": "install_upgrade",
                "capf_authentication_mode": "by_authentication_string",
                "capf_authentication_string": "%08d" % (first + i),
                "capf_key_type": "rsa" if key == "rsa" else "ec_p256"}
        conn.request("POST", "/api/v1/devices", json.dumps(body),
                     {"Authorization": admin_auth, "Content-Type": "application/json"})
        r = conn.getresponse()
        out = r.read()
        if r.status != 201:
            sys.exit(f"creating {name}: HTTP {r.status} {out[:200]!r}")
    conn.close()


class Probe(threading.Thread):
    """SIP OPTIONS over UDP every 20 ms; round-trip times in ms, and how many went unanswered."""

    def __init__(self):
        super().__init__(daemon=True)
        host, port = sip.rsplit(":", 1)
        self.dest = (host, int(port))
        self.rtts, self.lost, self.stop = [], 0, threading.Event()

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(1.0)
        lport = s.getsockname()[1]
        n = 0
        while not self.stop.is_set():
            n += 1
            msg = (f"OPTIONS sip:{sip} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bKprobe{n}\r\n"
                   f"From: <sip:probe@127.0.0.1>;tag=p{n}\r\nTo: <sip:{sip}>\r\n"
                   f"Call-ID: probe{n}@bench\r\nCSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\n"
                   "Content-Length: 0\r\n\r\n").encode()
            t0 = time.perf_counter()
            s.sendto(msg, self.dest)
            try:
                while True:
                    data = s.recv(65535)
                    if f"probe{n}@bench".encode() in data:
                        break
                self.rtts.append((time.perf_counter() - t0) * 1000)
            except socket.timeout:
                self.lost += 1
            time.sleep(0.02)


def enroll(names, strings, body, results):
    for name, string in zip(names, strings):
        auth = "Basic " + base64.b64encode(f"{name}:{string}".encode()).decode()
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
        t0 = time.perf_counter()
        conn.request("POST", "/.well-known/est/simpleenroll", body,
                     {"Authorization": auth, "Content-Type": "application/pkcs10"})
        r = conn.getresponse()
        r.read()
        conn.close()
        results.append((r.status, time.perf_counter() - t0))


names = ["SEP%012X" % (first + i) for i in range(count)]
strings = ["%08d" % (first + i) for i in range(count)]
provision(names)
body = csr_b64(key)
probe = Probe()
probe.start()
time.sleep(1.0)  # probe baseline before the burst
idle = list(probe.rtts)
results = []
threads = [threading.Thread(target=enroll, args=(names[i::clients], strings[i::clients], body,
                                                  results)) for i in range(clients)]
t0 = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - t0
probe.stop.set()
probe.join()
burst = probe.rtts[len(idle):]
ok = sum(1 for status, _ in results if status == 200)
status_counts = {}
for status, _ in results:
    status_counts[status] = status_counts.get(status, 0) + 1
lat = sorted(d for _, d in results)


def pct(v, p):
    return round(v[min(len(v) - 1, int(len(v) * p))], 1) if v else None


print(json.dumps({
    "key": "RSA 2048" if key == "rsa" else "P-256", "enrollments": count, "clients": clients,
    "ok": ok, "statuses": status_counts, "seconds": round(elapsed, 2),
    "enrollments_per_s": round(ok / elapsed, 1),
    "enroll_ms_p50": pct([d * 1000 for d in lat], 0.5),
    "enroll_ms_p99": pct([d * 1000 for d in lat], 0.99),
    "sip_rtt_ms_idle_p50": pct(sorted(idle), 0.5), "sip_options_during_burst": len(burst), "sip_options_lost": probe.lost,
    "sip_rtt_ms_p50": pct(sorted(burst), 0.5), "sip_rtt_ms_p99": pct(sorted(burst), 0.99),
    "sip_rtt_ms_max": round(max(burst), 1) if burst else None,
}))
