"""bench/process_probe: a process tree that changes while it is sampled."""

from __future__ import annotations

import psutil

from bench import process_probe


class Vanishing:
    """A process whose descendant exits while psutil lists them."""

    def children(self, recursive=False):
        raise psutil.NoSuchProcess(12345)

    def memory_info(self):
        return psutil.Process().memory_info()


def test_a_descendant_exiting_mid_walk_counts_the_process_alone():
    assert process_probe.tree_rss(Vanishing()) == psutil.Process().memory_info().rss


def test_the_tree_includes_live_children():
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        own = psutil.Process().memory_info().rss
        assert process_probe.tree_rss(psutil.Process()) > own
    finally:
        child.kill()
        child.wait()
