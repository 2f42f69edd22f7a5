"""Redis support is an extra (`feedd[redis]`): without the client, a Redis backend is a clear
config error naming the extra, and status and health say why instead of failing."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_without_the_redis_client_a_redis_backend_names_the_extra() -> None:
    # sys.modules["redis"] = None makes `import redis` fail as it does where it is not installed.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["redis"] = None
        from feedd.config import DedupConfig
        from feedd.dedup import open_backend, shared_index_problem
        from feedd.errors import ConfigError
        print(shared_index_problem("redis://127.0.0.1:1/0"))
        try:
            open_backend(DedupConfig(backend="redis://127.0.0.1:1/0"), None, None, instance_id="x")
        except ConfigError as exc:
            print(exc)
        """
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    problem, error = ran.stdout.splitlines()
    assert "pip install 'feedd[redis]'" in problem
    assert error.startswith("dedup.backend: a Redis URL needs the redis client") and "feedd[redis]" in error
