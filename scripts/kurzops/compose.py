"""Docker Compose: which command (v2 plugin or 1.29) and which files make each stage."""
import os
import shlex
import shutil
import subprocess

from . import ROOT

# stage -> compose files, in -f order, relative to the repository's root.
STAGES = {
    "stage1": ("docker-compose.stage1.yml",),
    "stage1-scaled": ("docker-compose.stage1-scaled.yml",),
    "stage2": ("docker-compose.stage2.yml",),
    "stage3": ("docker-compose.yml",),
    "stage3-ha": ("docker-compose.yml", "docker-compose.ha.yml"),
}


class NoCompose(Exception):
    pass


def stage_files(stage, absolute=False):
    """The compose files of `stage`; ValueError names the stages when it is unknown."""
    try:
        files = STAGES[stage]
    except KeyError:
        raise ValueError("unknown stage %r (%s)" % (stage, ", ".join(STAGES))) from None
    return [os.path.join(ROOT, f) for f in files] if absolute else list(files)


def stage_args(stage):
    """["-f", file, ...] for `stage`, absolute paths."""
    return [arg for f in stage_files(stage, absolute=True) for arg in ("-f", f)]


_detected = None


def compose_command():
    """The compose command as a list: $KURZ_COMPOSE when set, else `docker compose` (v2) when it
    works, else `docker-compose` (1.29). Raises NoCompose when there is neither."""
    global _detected
    if os.environ.get("KURZ_COMPOSE"):
        return shlex.split(os.environ["KURZ_COMPOSE"])
    if _detected is None:
        if shutil.which("docker") and subprocess.run(
                ["docker", "compose", "version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=30).returncode == 0:
            _detected = ["docker", "compose"]
        elif shutil.which("docker-compose"):
            _detected = ["docker-compose"]
        else:
            raise NoCompose("neither 'docker compose' (v2) nor 'docker-compose' (Debian package "
                            "docker-compose) is installed")
    return list(_detected)
