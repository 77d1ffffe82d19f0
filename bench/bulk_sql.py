#!/usr/bin/env python3
"""Inserts COUNT lines and devices straight into ucmd's SQLite database (ucmd must be stopped).

bulk_sql.py DB FIRST COUNT PROFILE DIGEST_USER
Same records as provision.py would create (directory_number, device with every NOT NULL column
as the API's defaults give them, device_line), in one transaction; removes stored registrations,
and the registration log beside the database, so that ucmd starts with none.
"""
import os, sqlite3, sys, time

db, first, count, profile, digest_user = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
if os.path.exists(db + "-registrations"):
    os.remove(db + "-registrations")
c = sqlite3.connect(db)
c.execute("PRAGMA foreign_keys=ON")
# Copy the column values of a device the API created (the template), so defaults match.
cols = [r[1] for r in c.execute("PRAGMA table_info(device)") if r[1] not in ("id",)]
tmpl = c.execute("SELECT %s FROM device WHERE phone_security_profile = ? LIMIT 1" % ",".join(cols),
                 (profile,)).fetchone()
if not tmpl:
    sys.exit("no template device with profile %s" % profile)
row = dict(zip(cols, tmpl))
t0 = time.time()
with c:
    c.execute("DELETE FROM registration")
    c.executemany("INSERT OR IGNORE INTO directory_number(number) VALUES (?)",
                  ((str(n),) for n in range(first, first + count)))
    def devices():
        for n in range(first, first + count):
            r = dict(row)
            r["name"] = "SEP%012X" % n
            r["digest_user"] = digest_user
            yield tuple(r[k] for k in cols)
    c.executemany("INSERT OR IGNORE INTO device(%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                  devices())
    c.executemany("INSERT OR IGNORE INTO device_line(device, position, directory_number) VALUES (?, 1, ?)",
                  (("SEP%012X" % n, str(n)) for n in range(first, first + count)))
print(f"inserted {count} lines and devices into {db} in {time.time() - t0:.1f} s")
