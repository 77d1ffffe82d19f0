"""Prints COUNT loopback ports that are free for TCP and UDP and reserved for one test.

Usage: free_ports.py OWNER_PID COUNT

Why not let the kernel pick (bind to port 0)? Such a port comes from the ephemeral range,
which is also where every client socket of every test running beside us (curl, sipp,
baresip, ucmd's own outgoing connections) gets its local port. ucmd binds its listeners only
after it has made its CA and certificates, a second or more later, and by then a client may
hold the port. So ports are drawn from below the ephemeral range, where the kernel never
assigns one, and each is reserved by creating a directory named after it: mkdir is atomic,
so two tests never get the same port. A reservation belongs to OWNER_PID (the test's shell)
and is released by the test's cleanup, or taken over once that process is gone.
"""
import errno
import os
import random
import socket
import sys
import time

RESERVATIONS = "/tmp/ucm-it-ports"


def candidate_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_low = int(f.read().split()[0])
    low = 10000 if ephemeral_low > 12000 else 1024
    return low, ephemeral_low - 1


def owner_alive(path):
    try:
        with open(os.path.join(path, "owner")) as f:
            os.kill(int(f.read()), 0)
    except ProcessLookupError:
        return False
    except (FileNotFoundError, ValueError):
        # Being written right now, or left half-written by a test that died in between.
        try:
            return time.time() - os.stat(path).st_mtime < 60
        except FileNotFoundError:
            return True  # released meanwhile: let the next draw try it again
    except PermissionError:
        return True  # another user's live process
    return True


def reserve(port, owner):
    path = os.path.join(RESERVATIONS, str(port))
    try:
        os.mkdir(path)
    except FileExistsError:
        if owner_alive(path):
            return False
        # A test that died without cleanup: take its port over, atomically by rename.
        stale = f"{path}.stale.{os.getpid()}"
        try:
            os.rename(path, stale)
        except OSError:
            return False
        for name in os.listdir(stale):
            os.unlink(os.path.join(stale, name))
        os.rmdir(stale)
        try:
            os.mkdir(path)
        except FileExistsError:
            return False
    with open(os.path.join(path, "owner"), "w") as f:
        f.write(str(owner))
    return True


def bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return False
            raise
        finally:
            s.close()
    return True


def release(port):
    path = os.path.join(RESERVATIONS, str(port))
    os.unlink(os.path.join(path, "owner"))
    os.rmdir(path)


def main():
    owner, count = int(sys.argv[1]), int(sys.argv[2])
    os.makedirs(RESERVATIONS, mode=0o1777, exist_ok=True)
    low, high = candidate_range()
    ports = []
    while len(ports) < count:
        port = random.randint(low, high)
        if not reserve(port, owner):
            continue
        if bindable(port):
            ports.append(port)
        else:
            release(port)
    print(" ".join(map(str, ports)))


main()
