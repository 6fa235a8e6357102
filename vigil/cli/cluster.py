"""``vigil cluster up``: a real local cluster (embedded PostgreSQL, NATS, an API process, N workers)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.shared import JsonOption, UsageProblem, out

cluster_app = typer.Typer(no_args_is_help=True, help="Run a real Vigil cluster on this machine.")


@cluster_app.command("up")
def up(
    workers: Annotated[int, typer.Option(help="how many `vigil worker` processes", min=1, max=64)] = 2,
    port: Annotated[
        int | None, typer.Option(help="the API's port (default: a free one)", min=1, max=65535)
    ] = None,
    directory: Annotated[
        Path, typer.Option("--dir", help="where the database, the stream and the logs are kept")
    ] = Path("var/cluster"),
    as_json: JsonOption = False,
) -> None:
    """Start PostgreSQL, NATS JetStream, one API process and N workers; Ctrl-C stops them all."""
    from vigil.cluster.local import ClusterError, LocalCluster, Member, run_until_signalled
    from vigil.stream.local import LocalNatsError

    cluster = LocalCluster(directory, workers, port)
    try:
        info = cluster.start()
    except (ClusterError, LocalNatsError) as exc:
        cluster.stop()
        raise UsageProblem(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(asdict(info)) + "\n")
        sys.stdout.flush()
    else:
        out.print(f"Vigil cluster up: API {info.api_url}, NATS {info.nats_url}, {workers} workers")
        out.print(f"database: {info.database_url}", highlight=False)
        if info.admin_key_file:
            out.print(f"admin API key in {info.admin_key_file}; logs in {info.directory}/logs")
        out.print("publish items to the subject vigil.items.<anything>; Ctrl-C stops the cluster")

    def restarted(member: Member, code: int) -> None:
        sys.stderr.write(f"vigil cluster: {member.name} exited with status {code}; started again\n")

    run_until_signalled(cluster, restarted)
