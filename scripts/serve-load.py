#!/usr/bin/env python3
"""How fast `optlab serve` answers what a slider sends, alone and with 20 clients at once.

Starts `optlab serve --port 0` on 127.0.0.1 (loopback only), then sends bounded loops of the
request a moving lr slider makes (/api/trajectories: 3 optimizers × --steps steps on bowl, the lr
changing each time): first one client, then --clients clients at once. Prints median, p95 and
max latency and requests per second, and the time of a first (uncached) contour image. Stops by
itself; every request has a 30 s timeout. --noise, --seeds and --show add what the page sends
with those controls set.

    scripts/serve-load.py --optlab .build/release/optlab
    scripts/serve-load.py --optlab .build/release/optlab --noise 1.5 --seeds 8 --show step,velocity,scale
"""
import argparse
import re
import statistics
import subprocess
import threading
import time
import urllib.parse
import urllib.request


def request(base, path, query):
    url = f"{base}{path}?{urllib.parse.urlencode(query)}"
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        assert response.status == 200
    return 1000 * (time.perf_counter() - started)


def slider_query(i, args):
    lr = 10 ** (-2 + 1.5 * (i % 100) / 100)
    query = {"fn": "bowl", "steps": args.steps, "start": "-1.2,1.6",
             "optimizers": f"sgd(lr={lr / 10:.5g}),momentum(lr={lr / 20:.5g}),adam(lr={lr:.5g})"}
    if args.noise is not None:
        query.update(noise=args.noise, seeds=args.seeds)
    if args.show:
        query["show"] = args.show
    return query


def summary(name, latencies, seconds):
    q = statistics.quantiles(latencies, n=20)
    return (f"{name}: {len(latencies)} requests, median {statistics.median(latencies):.1f} ms, "
            f"p95 {q[-1]:.1f} ms, max {max(latencies):.1f} ms, {len(latencies) / seconds:.0f} requests/s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--optlab", default=".build/release/optlab")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--noise", type=float, help="gradient noise σ (the page's Noise σ)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per optimizer, with --noise")
    parser.add_argument("--show", help="state marks, e.g. step,velocity,scale")
    args = parser.parse_args()
    server = subprocess.Popen([args.optlab, "serve", "--port", "0", "--runs", "."], stdout=subprocess.PIPE, text=True)
    try:
        base = re.search(r"http://[0-9.]+:\d+", server.stdout.readline()).group(0)
        assert base.startswith("http://127.0.0.1:")
        for fn in ["bowl", "rosenbrock", "himmelblau"]:
            print(f"first contour image of {fn}: {request(base, '/api/contours.png', {'fn': fn}):.0f} ms, "
                  f"cached: {request(base, '/api/contours.png', {'fn': fn}):.1f} ms")
        for i in range(20):  # warm-up
            request(base, "/api/trajectories", slider_query(i, args))
        started = time.perf_counter()
        alone = [request(base, "/api/trajectories", slider_query(i, args)) for i in range(args.clients * args.requests // 4)]
        print(summary("1 client", alone, time.perf_counter() - started))

        results, lock = [], threading.Lock()

        def client(c):
            mine = [request(base, "/api/trajectories", slider_query(c * 7 + i, args)) for i in range(args.requests)]
            with lock:
                results.extend(mine)

        threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(summary(f"{args.clients} clients at once", results, time.perf_counter() - started))
    finally:
        server.send_signal(2)
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
