#!/usr/bin/env python3
"""Bulk-provisions ucmd through its REST API over keep-alive HTTPS connections.

provision.py URL CA ADMIN PASSWORD FIRST COUNT PROFILE DIGEST_USER [CONNECTIONS]
creates directory numbers FIRST..FIRST+COUNT-1 and, for each, a Cisco SIP phone
SEP<number as 12 hex digits> with that one line, the given phone security profile and digest user
(none if ""). Several connections work in parallel (default 8): each request waits ~40 ms for
TCP (see README, "findings"), not for ucmd.
"""
import base64, http.client, json, ssl, sys, threading, time, urllib.parse

url, ca, user, pw = sys.argv[1:5]
first, count = int(sys.argv[5]), int(sys.argv[6])
profile, digest_user = sys.argv[7], sys.argv[8]
nconn = int(sys.argv[9]) if len(sys.argv) > 9 else 8
u = urllib.parse.urlparse(url)
ctx = ssl.create_default_context(cafile=ca)
auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
errors = []


def worker(numbers):
    conn = None

    def post(path, body):
        nonlocal conn
        data = json.dumps(body)
        for attempt in range(3):
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
                conn.request("POST", "/api/v1/" + path, data,
                             {"Authorization": auth, "Content-Type": "application/json"})
                r = conn.getresponse()
                out = r.read()
                if r.status not in (200, 201, 409):
                    raise RuntimeError(f"POST {path} {body}: HTTP {r.status} {out[:300]!r}")
                return
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = None
        raise RuntimeError(f"POST {path}: connection kept failing")

    try:
        for n in numbers:
            post("directory-numbers", {"number": str(n)})
            device = {"name": "SEP%012X" % n, "type": "cisco_sip_phone",
                      "phone_security_profile": profile, "lines": [str(n)]}
            if digest_user:
                device["digest_user"] = digest_user
            post("devices", device)
    except Exception as e:  # reported by the main thread
        errors.append(str(e))


t0 = time.time()
numbers = list(range(first, first + count))
threads = [threading.Thread(target=worker, args=(numbers[i::nconn],)) for i in range(nconn)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit(errors[0])
print(f"provisioned {count} lines and devices through the API in {time.time() - t0:.1f} s "
      f"({nconn} connections)")
