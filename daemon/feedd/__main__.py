"""The `feedd` command (`python -m feedd`, and the console script's entry point).

Kept to one lazy import on purpose: multiprocessing imports the main module again in every
extraction worker, and a worker has no use for the CLI, the scheduler or the dedup index."""

from __future__ import annotations


def main() -> None:
    from feedd.cli import main as run_cli

    run_cli()


if __name__ == "__main__":
    main()
