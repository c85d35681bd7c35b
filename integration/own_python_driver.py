"""Drives one Tandem kernel through jupyter_client and prints what it saw as JSON.

Run by integration/test_own_python.py with the Python of the environment under test,
from a copy outside the source tree (which is hidden while it runs):
``python own_python_driver.py KERNEL_NAME``.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time

from jupyter_client.manager import start_new_kernel


def run(kc, code: str, timeout: float = 120) -> tuple[dict, list]:
    outputs: list = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
    return reply["content"], outputs


def stdout(outputs: list) -> str:
    return "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")


def printed_json(kc, code: str) -> object:
    content, outputs = run(kc, code)
    if content["status"] != "ok":
        return {"error": content.get("ename"), "value": content.get("evalue"), "out": stdout(outputs)}
    return json.loads(stdout(outputs).strip().splitlines()[-1])


def main() -> None:
    km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=60)
    seen: dict = {}
    try:
        seen["language_version"] = kc.kernel_info(reply=True, timeout=30)["content"]["language_info"]["version"]
        seen["embedded"] = printed_json(
            kc, "import json, sys\nprint(json.dumps([list(sys.version_info[:3]), sys.executable, sys.prefix]))"
        )
        seen["frame"] = printed_json(
            kc,
            "import numpy as np, pandas as pd\n"
            "df = pd.DataFrame({'x': np.arange(5, dtype=np.int64), 's': ['a', 'b', None, 'd', 'é']})\n"
            "upper = [None if pd.isna(v) else v for v in df.s.str.upper()]\n"
            "print(json.dumps([float(np.sqrt(df.x).sum()), upper]))",
        )
        content, outputs = run(
            kc,
            "%%R -i df -o out\n"
            "out <- data.frame(n = nchar(df$s), x2 = df$x * 2L, s = toupper(df$s), cls = class(df$x))",
        )
        seen["r_cell"] = [content["status"], stdout(outputs)]
        seen["r_out"] = printed_json(
            kc, "print(json.dumps({k: [None if pd.isna(v) else v for v in out[k].tolist()] for k in out}))"
        )
        seen["map"] = printed_json(kc, "import tandem\nprint(json.dumps(list(tandem.map(lambda i: i * i, range(20)))))")
        msg_id = kc.execute("import time\ntime.sleep(100)")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg = kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                break
        time.sleep(0.5)
        started = time.monotonic()
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        seen["interrupt"] = [reply["content"].get("ename"), round(time.monotonic() - started, 3)]
        seen["after_interrupt"] = printed_json(kc, "print(json.dumps(6 * 7))")
        content, outputs = run(
            kc,
            "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
            "plt.plot([0, 1, 2], [0, 1, 4], linewidth=3)\nplt.show()",
        )
        pngs = [m["content"]["data"]["image/png"] for m in outputs if "image/png" in m["content"].get("data", {})]
        seen["plot"] = [content["status"], [_picture(png) for png in pngs]]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(seen))


def _picture(png: str) -> dict:
    """A PNG's size and the share of its pixels that are not background."""
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(png)), format="png")
    rgb = pixels[..., :3]
    ink = float(np.mean(np.any(np.abs(rgb - rgb[0, 0]) > 0.1, axis=-1)))
    return {"height": pixels.shape[0], "width": pixels.shape[1], "ink": ink}


if __name__ == "__main__":
    main()
