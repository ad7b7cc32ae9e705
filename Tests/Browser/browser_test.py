"""Drives `optlab serve` in headless Chromium as a student would, and checks what the page draws.

Playground: load, choose a surface, click to set the start, move an lr slider, and check that the
path the page drew ends where `optlab trajectories` (run separately) says, at the pixel the page
drew its end marker; add noise and seeds (each seed's path is the CLI's, the fan is drawn), show
the state arrows (drawn where the engine put them), and decode the GIF the page offers.
Dashboard: while a small `optlab train` runs, its curve appears and grows; once finished, its
per-class accuracy and confusion matrix show; a job folder's runs show their states and curves
as a job runs.

Run by scripts/browser-test.sh (which installs Chromium, its driver and selenium). Prints the
slider-to-drawn latencies it saw, and with --screenshots DIR saves both views.
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

passed, failed = 0, 0


def check(condition, what):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok    {what}")
    else:
        failed += 1
        print(f"FAIL  {what}")


def start_server(optlab, runs):
    server = subprocess.Popen([optlab, "serve", "--port", "0", "--runs", runs], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    match = re.search(r"http://[0-9.]+:\d+/", line)
    if not match:
        server.kill()
        sys.exit(f"optlab serve did not print its address: {line!r}")
    return server, match.group(0)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                 "--force-device-scale-factor=1"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


def save_page(driver, path):
    """The whole page, as tall as its content, 1280 pixels wide."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False})
    driver.save_screenshot(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def wait_for(driver, script, timeout=30, what=""):
    """Polls a JavaScript expression until it is truthy; returns its value."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(f"return {script}"))
    except Exception:
        print(f"timed out waiting for {what or script}")
        return None


def engine_final_points(optlab, state, folder):
    """The final point of every path, from the CLI's CSV for the page's surface, start, steps and specs."""
    out = os.path.join(folder, "cli.csv")
    subprocess.run([optlab, "trajectories", "--fn", state["fn"], f"--start={state['start'][0]},{state['start'][1]}",
                    "--steps", str(state["steps"]), "--optimizers", ",".join(state["optimizers"]), "--csv", out,
                    "--out", os.path.join(folder, "cli.png")], check=True, stdout=subprocess.DEVNULL)
    finals = {}
    with open(out) as f:
        for row in csv.DictReader(f):
            finals[row["optimizer"]] = (float(row["x"]), float(row["y"]))
    return finals


def playground(driver, optlab, folder, screenshots):
    wait_for(driver, "window.optlabState.result && window.optlabState.result.paths.length === 3", what="the first paths")
    Select(driver.find_element(By.ID, "surface")).select_by_value("himmelblau")
    ok = wait_for(driver, "window.optlabState.fn === 'himmelblau' && window.optlabState.result"
                          " && window.optlabState.result.start[0] === window.optlabState.surface.start[0]"
                          " && !window.optlabState.inFlight", what="himmelblau")
    check(bool(ok), "choosing himmelblau loads its contours and paths")
    check(driver.execute_script("return document.getElementById('contours').naturalWidth") > 0, "the contour image loaded")

    # Click where (0.3, -0.8) is drawn: the start moves there (rounded to the window's precision).
    canvas = driver.find_element(By.ID, "paths")
    px, py = driver.execute_script("return window.optlabToCanvas(0.3, -0.8)")
    width, height = driver.execute_script("const c = arguments[0]; return [c.width, c.height]", canvas)
    ActionChains(driver).move_to_element_with_offset(canvas, px - width / 2, py - height / 2).click().perform()
    start = wait_for(driver, "(() => { const s = window.optlabState;"
                             " return !s.inFlight && s.result && Math.abs(s.result.start[0] - 0.3) < 0.05 && s.result.start })()",
                     what="the clicked start")
    check(start is not None and abs(start[0] - 0.3) < 0.05 and abs(start[1] + 0.8) < 0.05, f"clicking sets the start: {start}")

    # Move the first optimizer's lr slider with the keyboard, as a user nudging it would.
    before = driver.execute_script("return window.optlabState.optimizers[0]")
    latencies = nudge_lr(driver, Keys.ARROW_LEFT, 60)  # 0.01 a press on log10(lr): 0.04 → 0.01
    state = driver.execute_script("const s = window.optlabState;"
                                  " return {fn: s.fn, start: s.result.start, steps: s.result.steps, optimizers: s.optimizers,"
                                  " paths: s.result.paths.map(p => ({label: p.label, color: p.color, end: p.points[p.points.length - 1]}))}")
    check(state["optimizers"][0] != before, f"the slider rewrote the spec: {before} -> {state['optimizers'][0]}")
    spec_text = driver.find_element(By.CSS_SELECTOR, "#optimizers .optimizer .spec").get_attribute("value")
    check(spec_text == state["optimizers"][0], f"the spec text follows the slider: {spec_text}")

    finals = engine_final_points(optlab, state, folder)
    for path in state["paths"]:
        engine = finals.get(path["label"])
        check(engine is not None and tuple(path["end"]) == engine, f"{path['label']}: page's end {path['end']} = engine's {engine}")
    # The end marker is drawn at the engine's final point, in the optimizer's colour (the last path is on top).
    last = state["paths"][-1]
    x, y = driver.execute_script("return window.optlabToCanvas(arguments[0], arguments[1])", *finals[last["label"]])
    rgb = driver.execute_script("return Array.from(arguments[0].getContext('2d').getImageData(arguments[1], arguments[2], 1, 1).data.slice(0, 3))",
                                canvas, int(x), int(y))
    want = [int(last["color"][i:i + 2], 16) for i in (1, 3, 5)]
    check(max(abs(a - b) for a, b in zip(rgb, want)) <= 8, f"the canvas shows {last['label']}'s end marker at the engine's point: {rgb} vs {want}")

    report_latencies("slider → drawn paths", latencies)
    check(bool(latencies), "the page redrew after slider moves")

    noise_seeds_and_state(driver, optlab, folder, canvas, screenshots)

    # Play from the start: the animation runs, then stops at the last step.
    driver.find_element(By.ID, "play").click()
    wait_for(driver, "window.optlabState.playing", what="playing")
    check(bool(wait_for(driver, "!window.optlabState.playing && window.optlabState.frame === window.optlabState.result.steps",
                        what="the animation's end")), "play animates to the last step")
    if screenshots:
        save_page(driver, os.path.join(screenshots, "serve-playground.png"))


def nudge_lr(driver, key, presses):
    """Moves the first optimizer's lr slider with the keyboard, as a user nudging it would; the
    page's slider-to-drawn times."""
    slider = driver.find_element(By.CSS_SELECTOR, "#optimizers .optimizer input[type=range][data-key=lr]")
    driver.execute_script("window.optlabLatencies.length = 0")
    for _ in range(presses):
        slider.send_keys(key)
        time.sleep(0.05)
    wait_for(driver, "!window.optlabState.inFlight && !window.optlabState.pending", what="the last slider update")
    return driver.execute_script("return window.optlabLatencies")


def report_latencies(what, latencies):
    if latencies:
        q = statistics.quantiles(latencies, n=20) if len(latencies) >= 2 else latencies * 19
        print(f"{what}: {len(latencies)} updates, median {statistics.median(latencies):.1f} ms, p95 {q[-1]:.1f} ms")


def pixel(driver, canvas, x, y):
    return driver.execute_script("return Array.from(arguments[0].getContext('2d').getImageData(arguments[1], arguments[2], 1, 1).data)",
                                 canvas, int(x), int(y))


def near(rgba, color, tolerance):
    want = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return rgba[3] > 0 and max(abs(a - b) for a, b in zip(rgba[:3], want)) <= tolerance


def noise_seeds_and_state(driver, optlab, folder, canvas, screenshots):
    """Noise and seeds: each seed's path is the CLI's and the fan is drawn; the state arrows are the
    engine's marks, drawn; the GIF the page offers decodes to the frames the CLI would write."""
    for field, value in [("noise", "0.5"), ("seeds", "8")]:
        box = driver.find_element(By.ID, field)
        box.clear()
        box.send_keys(value, Keys.TAB)
    ok = wait_for(driver, "(() => { const r = window.optlabState.result; return !window.optlabState.inFlight && !window.optlabState.pending"
                          " && r.paths.every(p => p.fan.length === 8) })()", what="the fans of 8 seeds")
    check(bool(ok), "noise σ 0.5 and 8 seeds give each optimizer a fan of 8 paths")
    state = driver.execute_script("const s = window.optlabState;"
                                  " return {fn: s.fn, start: s.result.start, steps: s.result.steps, optimizers: s.optimizers, command: s.result.command,"
                                  " paths: s.result.paths.map(p => ({label: p.label, color: p.color, fan: p.fan}))}")
    check("--noise 0.5 --seeds 8" in state["command"], f"the command carries the noise: {state['command']}")
    out = os.path.join(folder, "noisy.csv")
    subprocess.run([optlab, "trajectories", "--fn", state["fn"], f"--start={state['start'][0]},{state['start'][1]}",
                    "--steps", str(state["steps"]), "--optimizers", ",".join(state["optimizers"]), "--noise", "0.5", "--seeds", "8",
                    "--csv", out, "--out", os.path.join(folder, "noisy.png")], check=True, stdout=subprocess.DEVNULL)
    seeds = {}
    with open(out) as f:
        for row in csv.DictReader(f):
            seeds.setdefault((row["optimizer"], int(row["seed"])), []).append([float(row["x"]), float(row["y"])])
    same = all(seeds.get((p["label"], k)) == seed for p in state["paths"] for k, seed in enumerate(p["fan"]))
    check(same, "every seed's path on the page is the CLI's, point for point")
    # The fan is on the canvas: the seeds' lines pass through their points in the optimizer's colour.
    drawn = 0
    for path in state["paths"]:
        for seed in path["fan"]:
            x, y = driver.execute_script("return window.optlabToCanvas(arguments[0], arguments[1])", *seed[len(seed) // 3])
            drawn += near(pixel(driver, canvas, x, y), path["color"], 60)
    total = sum(len(p["fan"]) for p in state["paths"])
    check(drawn >= total // 2, f"the fans are drawn: {drawn} of {total} seed paths seen in their colour")
    if screenshots:
        save_page(driver, os.path.join(screenshots, "serve-noise.png"))
    report_latencies("slider → drawn fans of 8 seeds", nudge_lr(driver, Keys.ARROW_RIGHT, 30))
    gif_hidden = driver.execute_script("return document.getElementById('dl-gif').hidden")
    check(gif_hidden, "GIF and MP4 are offered with one seed only, as the CLI animates")

    # Back to exact gradients, and the optimizer's state drawn along the paths.
    for field, value in [("seeds", "1"), ("noise", "0")]:
        box = driver.find_element(By.ID, field)
        box.clear()
        box.send_keys(value, Keys.TAB)
    for view in ["step", "velocity", "scale"]:
        driver.find_element(By.CSS_SELECTOR, f"#show input[data-view={view}]").click()
    ok = wait_for(driver, "(() => { const r = window.optlabState.result; return !window.optlabState.inFlight && !window.optlabState.pending"
                          " && r.paths.every(p => p.fan.length === 0) && r.paths.some(p => p.state.some(m => m.view === 'velocity')) })()",
                  what="the state marks")
    check(bool(ok), "show step, velocity and scale brings the engine's state marks")
    result = driver.execute_script("return window.optlabState.result")
    check("--show step,velocity,scale" in result["command"], "the command carries --show")
    views = {m["view"] for p in result["paths"] for m in p["state"]}
    check(views == {"step", "velocity", "scale"}, f"the marks of every view come back: {sorted(views)}")
    # The last velocity arrow drawn is red along its shaft (drawn on top of the paths).
    marks = [m for p in result["paths"] for m in p["state"] if m["view"] == "velocity"][-1]
    seen = 0
    for a, b in zip(marks["from"], marks["to"]):
        ax, ay = driver.execute_script("return window.optlabToCanvas(arguments[0], arguments[1])", *a)
        bx, by = driver.execute_script("return window.optlabToCanvas(arguments[0], arguments[1])", *b)
        if abs(bx - ax) + abs(by - ay) > 20:
            seen += near(pixel(driver, canvas, (2 * ax + 3 * bx) / 5, (2 * ay + 3 * by) / 5), marks["color"], 60)
    check(seen >= 1, f"velocity arrows are drawn in {marks['color']}: {seen} of {len(marks['from'])} seen")

    # The GIF the page offers: what the CLI writes, one frame per step (101 for 100 steps).
    href = driver.find_element(By.ID, "dl-gif").get_attribute("href")
    data = driver.execute_async_script("""const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => {
            let s = ""; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); done(btoa(s)); });""", href)
    from PIL import Image
    import base64
    import io
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    check(image.format == "GIF" and image.n_frames == result["steps"] + 1,
          f"the GIF download decodes: {image.format}, {image.n_frames} frames of {image.size[0]}×{image.size[1]}")
    cli_gif = os.path.join(folder, "cli.gif")
    subprocess.run([optlab, "trajectories", "--fn", result_fn(driver), f"--start={result['start'][0]},{result['start'][1]}",
                    "--steps", str(result["steps"]), "--optimizers", ",".join(driver.execute_script("return window.optlabState.optimizers")),
                    "--layout", "overlay", "--show", "step,velocity,scale", "--out", cli_gif], check=True, stdout=subprocess.DEVNULL)
    with open(cli_gif, "rb") as f:
        check(f.read() == base64.b64decode(data), "…and is byte for byte the GIF the CLI writes for the view")


def result_fn(driver):
    return driver.execute_script("return window.optlabState.fn")


def job_folder(driver, optlab, runs):
    """A grid written by `optlab cifar --jobs`: its runs listed under it, pending until a job runs,
    then running with a curve, then done."""
    grid = os.path.join(runs, "grid")
    subprocess.run([optlab, "cifar", "--compare", "sgd(lr=0.02,momentum=0.9),adam(lr=0.002)", "--model", "tutorial",
                    "--epochs", "2", "--train-subset", "1000", "--threads", "1", "--jobs", grid], check=True, stdout=subprocess.DEVNULL)
    listed = wait_for(driver, "document.querySelectorAll('#run-list li[data-state=pending]').length === 2"
                              " && document.querySelector('#run-list li.grid[data-grid=grid]')", what="the job folder")
    check(bool(listed), "a job folder shows as a grid with its two runs pending")
    job = subprocess.Popen([optlab, "job", os.path.join(grid, "runs", "0001.json")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        running = wait_for(driver, "document.querySelector('#run-list li[data-state=running]')", timeout=120, what="the running job")
        check(bool(running), "the job's run shows as running while it trains")
        first = "(window.optlabDashboard.plotted || {})['grid/runs/0001.safetensors'] >= 1"
        check(bool(wait_for(driver, first, timeout=300, what="the job's first epoch")), "its curve appears after its first epoch")
        job.wait(timeout=300)
    finally:
        if job.poll() is None:
            job.kill()
    done = wait_for(driver, "document.querySelector('#run-list li[data-run=\"grid/runs/0001.safetensors\"]')?.dataset.state === 'done'"
                            " && window.optlabDashboard.plotted['grid/runs/0001.safetensors'] === 2", what="the job done")
    check(bool(done), "…and done with both epochs when its result is written")
    heading = driver.find_element(By.CSS_SELECTOR, "#run-list li.grid").text
    check("1 done" in heading and "1 pending" in heading, f"the grid counts its runs by state: {heading!r}")


def dashboard(driver, optlab, runs, screenshots):
    driver.find_element(By.ID, "tab-dashboard").click()
    check(driver.find_element(By.ID, "dashboard").is_displayed(), "the dashboard view shows")
    # Two small runs at once, one core each: their curves appear and grow while they train.
    log = open(os.path.join(runs, "..", "train.log"), "w")
    names = {"tutorial-momentum.safetensors": "sgd(lr=0.02,momentum=0.9)", "tutorial-adam.safetensors": "adam(lr=0.002)"}
    trainings = [subprocess.Popen([optlab, "train", "--model", "tutorial", "--epochs", "3", "--train-subset", "2000",
                                   "--threads", "1", "--optimizer", spec, "--out", os.path.join(runs, name)],
                                  stdout=log, stderr=subprocess.STDOUT) for name, spec in names.items()]
    plotted = "(window.optlabDashboard.plotted || {})"
    try:
        first = wait_for(driver, f"Object.keys({plotted}).length === 2 && Object.values({plotted}).every(n => n >= 1)",
                         timeout=300, what="both runs' first epoch on the chart")
        check(bool(first), "training runs' curves appear while they train")
        counts = driver.execute_script("return window.optlabDashboard.plotted")
        check(any(t.poll() is None for t in trainings), f"…while they still train (epochs drawn: {counts})")
        grown = wait_for(driver, f"Object.values({plotted}).length === 2 && Object.values({plotted}).every(n => n === 3)",
                         timeout=300, what="all three epochs of both runs")
        check(bool(grown), "the curves grow to every epoch")
        for t in trainings:
            t.wait(timeout=300)
    finally:
        for t in trainings:
            if t.poll() is None:
                t.kill()
    wait_for(driver, "window.optlabDashboard.runs.every(r => r.finished)", what="the finished runs")
    driver.find_element(By.CSS_SELECTOR, "#run-list li[data-run='tutorial-momentum.safetensors']").click()
    driver.find_element(By.CSS_SELECTOR, "#run-detail button").click()
    shown = wait_for(driver, "document.querySelector('#run-detail table.confusion')", timeout=240, what="the confusion matrix")
    check(bool(shown), "a finished run shows its per-class accuracy and confusion matrix")
    cells = driver.execute_script("return Array.from(document.querySelectorAll('#run-detail table.confusion td')).reduce((s, td) => s + Number(td.textContent), 0)")
    check(cells == 10000, f"the confusion matrix counts the 10,000 test images: {cells}")
    job_folder(driver, optlab, runs)
    if screenshots:
        save_page(driver, os.path.join(screenshots, "serve-dashboard.png"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--optlab", default=".build/debug/optlab")
    parser.add_argument("--screenshots", help="save both views as serve-playground.png and serve-dashboard.png here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="optlab-browser-") as folder:
        runs = os.path.join(folder, "runs")
        os.makedirs(runs)
        server, address = start_server(os.path.abspath(args.optlab), runs)
        driver = browser()
        try:
            driver.set_window_size(1280, 1000)
            driver.get(address)
            playground(driver, os.path.abspath(args.optlab), folder, args.screenshots)
            dashboard(driver, os.path.abspath(args.optlab), runs, args.screenshots)
        finally:
            driver.quit()
            server.send_signal(2)  # Ctrl-C: the server stops cleanly
            try:
                code = server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                code = None
            check(code == 0, f"Ctrl-C stops the server cleanly (exit status {code})")
    print(f"browser: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
