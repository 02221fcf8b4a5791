#!/bin/sh
# kurz-swarm-node dockerd [dockerd flags...]   the node's Docker engine (needs --privileged)
# kurz-swarm-node registry                      Debian's docker-registry on :5000, data in /var/lib/docker-registry
set -eu
case "${1:-dockerd}" in
  registry)
    exec docker-registry serve /etc/docker/registry/config.yml
    ;;
  dockerd)
    shift || true
    # Mounts made by the engine's containers must propagate (as the docker:dind image does).
    mount --make-rshared / 2>/dev/null || true
    # The host cannot grant --privileged (its bounding set lacks CAP_SYS_RESOURCE), so cluster.sh
    # gives every other capability, no seccomp/AppArmor profile, unmasked /proc and a private cgroup
    # namespace; /sys and the cgroup v1 hierarchies are mounted read-only then: make them writable
    # so that this dockerd can create its containers' cgroups (below the node's own cgroup).
    mount -o remount,rw /sys 2>/dev/null || true
    grep ' - cgroup ' /proc/self/mountinfo | awk '{print $5, $NF}' | while read -r dir opts; do
      umount "$dir" 2>/dev/null || umount -l "$dir"
      mount -t cgroup -o "${opts#rw,}" cgroup "$dir"
    done
    rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
    exec dockerd --host=unix:///var/run/docker.sock --storage-driver=overlay2 "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
