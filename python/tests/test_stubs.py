import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def test_committed_stubs_equal_a_fresh_generation():
    spec = importlib.util.spec_from_file_location("gen_stubs", HERE / "gen_stubs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (HERE / "gigapix" / "__init__.pyi").read_text()
    assert committed == gen.render(), "stale stubs: run python/gen_stubs.py"
