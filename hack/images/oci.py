#!/usr/bin/env python3
"""Packs layer tarballs and an image config into an OCI image archive that `ctr images import` reads.

Why not a Docker-compatible builder: the build machines have no Docker engine and no registry, and
the format is small enough to write directly (image-spec v1.1: oci-layout, index.json, blobs/).

  oci.py layer DIR OUT.tar       deterministic tar of DIR (sorted, mtime 0, numeric owners kept)
  oci.py digest FILE             prints sha256:<hex> of FILE, cached next to it as FILE.sha256
  oci.py pack --name REF --config CONFIG.json --out OUT.tar LAYER.tar...
                                 writes the archive and prints the manifest digest

Layers are stored uncompressed: they are imported on the same host, so gzip would only cost time.
"""
import hashlib
import io
import json
import os
import sys
import tarfile

LAYER_MT = "application/vnd.oci.image.layer.v1.tar"
CONFIG_MT = "application/vnd.oci.image.config.v1+json"
MANIFEST_MT = "application/vnd.oci.image.manifest.v1+json"
INDEX_MT = "application/vnd.oci.image.index.v1+json"


def file_digest(path):
    """sha256 of a file, cached in PATH.sha256 (keyed by size and mtime) since layers are big."""
    st = os.stat(path)
    stamp = f"{st.st_size}:{st.st_mtime_ns}"
    cache = path + ".sha256"
    try:
        with open(cache) as f:
            got_stamp, got = f.read().split()
        if got_stamp == stamp:
            return got
    except (OSError, ValueError):
        pass
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    d = "sha256:" + h.hexdigest()
    with open(cache, "w") as f:
        f.write(f"{stamp} {d}\n")
    return d


def make_layer(src, out):
    """A reproducible tar of SRC: same tree, same bytes. Owners are kept (numeric) so a staging
    tree can carry e.g. a data dir owned by uid 10001; timestamps are zeroed."""

    def norm(ti):
        ti.mtime = 0
        ti.uname = ti.gname = ""
        return ti

    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(dirs + files):
                full = os.path.join(root, name)
                arc = os.path.relpath(full, src)
                tar.add(full, arcname=arc, recursive=False, filter=norm)
    os.replace(tmp, out)


def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", d)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def pack(name, config_path, out, layers):
    with open(config_path) as f:
        cfg = json.load(f)
    descs = []
    for lp in layers:
        descs.append({"mediaType": LAYER_MT, "digest": file_digest(lp), "size": os.path.getsize(lp)})
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "hack/images/build.sh"}],
    }
    cfg_bytes = json.dumps(image_config, sort_keys=True, separators=(",", ":")).encode()
    cfg_digest = "sha256:" + hashlib.sha256(cfg_bytes).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MT,
        "config": {"mediaType": CONFIG_MT, "digest": cfg_digest, "size": len(cfg_bytes)},
        "layers": descs,
    }
    man_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    man_digest = "sha256:" + hashlib.sha256(man_bytes).hexdigest()
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MT,
        "manifests": [
            {
                "mediaType": MANIFEST_MT,
                "digest": man_digest,
                "size": len(man_bytes),
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
                },
            }
        ],
    }

    def add_bytes(tar, arc, data):
        ti = tarfile.TarInfo(arc)
        ti.size = len(data)
        ti.mode = 0o644
        tar.addfile(ti, io.BytesIO(data))

    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(tar, "index.json", json.dumps(index, sort_keys=True).encode())
        add_bytes(tar, "blobs/sha256/" + cfg_digest[7:], cfg_bytes)
        add_bytes(tar, "blobs/sha256/" + man_digest[7:], man_bytes)
        seen = set()
        for lp, d in zip(layers, descs):
            if d["digest"] in seen:
                continue
            seen.add(d["digest"])
            tar.add(lp, arcname="blobs/sha256/" + d["digest"][7:])
    os.replace(tmp, out)
    print(man_digest)


def main(argv):
    if len(argv) >= 3 and argv[0] == "layer":
        make_layer(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "digest":
        print(file_digest(argv[1]))
    elif argv and argv[0] == "pack":
        import argparse

        p = argparse.ArgumentParser(prog="oci.py pack")
        p.add_argument("--name", required=True)
        p.add_argument("--config", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("layers", nargs="+")
        a = p.parse_args(argv[1:])
        pack(a.name, a.config, a.out, a.layers)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
