"""The command line's entry point: main() parses the options, trains on the engine they name,
and turns every way a run can end into an exit status."""
import signal
import sys

from ..allocator import keep_freed_memory
from ..backends import fast
from .distributed import run_distributed
from .errors import Agreed, UsageError
from .group import _warn_if_alone_under_mpiexec
from .interrupt import CtrlC, exit_status
from .lock import release_held
from .options import parse_args
from .progress import guarded_streams
from .runner import run


def main(argv=None):
    """python -m minitorch_cnn.train [options] (the minitorch-cnn-train command); -> the exit status:
    0 done, 1 training stopped (a non-finite loss or model), 2 a usage error, 128 + N stopped by
    signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP); a run that ended well but could not write all its
    output: 141 when a reader of stdout or stderr went away (`| head`), 3 otherwise (a full disk, a
    closed stream).  Closed or broken output never stops training (progress.guarded_streams)."""
    keep_freed_memory()     # training starts here (see minitorch_cnn/allocator.py; MINITORCH_CNN_MALLOC=default: not)
    with guarded_streams() as streams:
        return streams.status(_main(argv))


def _main(argv):
    """main() within its guarded streams: the run, every way it can end turned into an exit status.
    A stop signal before training begins (or a second one while training) raises interrupt.Abort."""
    args = None
    try:
        with CtrlC(at_once=True):       # training itself installs its own handlers (runner.run)
            args = parse_args(argv)
            _warn_if_alone_under_mpiexec(args)
            with fast.flags(enabled=not args.core):     # --core: every op runs its core Function, for this run
                return _train(args)
    except Agreed as agreed:
        return agreed.status
    except UsageError as exc:
        return _give_up(args, f"error: {exc}", 2)
    except KeyboardInterrupt as stop:       # interrupt.Abort, or Ctrl-C where no handler of ours was set
        return _give_up(args, str(stop) or "aborted", exit_status(getattr(stop, "signum", signal.SIGINT)))
    except Exception:
        if args is None or args.group is None:
            raise
        import traceback
        return _give_up(args, traceback.format_exc().rstrip(), 1)
    finally:
        release_held()      # the run folder's lock (lock.py); the OS would release it as the process ends


def _train(args):
    """run(args), or run_distributed(args) and leave the process group."""
    if args.group is None:
        return run(args)
    status = run_distributed(args)
    args.group.dist.destroy_process_group()
    return status


def _give_up(args, message, status):
    """Say `message` and return `status`; under --distributed, end every rank (a failure on some ranks
    only would leave the others waiting in a collective forever)."""
    group = None if args is None else args.group
    if group is None:
        print(message, file=sys.stderr)
        return status
    print(("" if group.rank == 0 else f"rank {group.rank}: ") + message + f"; ending all {group.size} ranks",
          file=group.stderr)
    group.abort(status)
