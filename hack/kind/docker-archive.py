#!/usr/bin/env python3
"""docker-archive.py IN.tar OUT.tar TAG...: turns an OCI image archive (hack/images/oci.py) into one
that `docker load` also reads. Docker before 25 loads only its own format: a manifest.json naming
the config and the layers. The OCI blobs stay where they are, so the same file serves both.
"""
import json
import shutil
import sys
import tarfile
import io


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    src, out, tags = argv[0], argv[1], argv[2:]
    with tarfile.open(src) as tar:
        index = json.load(tar.extractfile("index.json"))
        man_digest = index["manifests"][0]["digest"]
        manifest = json.load(tar.extractfile("blobs/sha256/" + man_digest[7:]))
    entry = [
        {
            "Config": "blobs/sha256/" + manifest["config"]["digest"][7:],
            "RepoTags": tags,
            "Layers": ["blobs/sha256/" + layer["digest"][7:] for layer in manifest["layers"]],
        }
    ]
    data = json.dumps(entry).encode()
    tmp = out + ".tmp"
    shutil.copyfile(src, tmp)
    # Appending to an uncompressed tar keeps every blob as it is.
    with tarfile.open(tmp, "a", format=tarfile.PAX_FORMAT) as tar:
        ti = tarfile.TarInfo("manifest.json")
        ti.size = len(data)
        ti.mode = 0o644
        tar.addfile(ti, io.BytesIO(data))
    shutil.move(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1:])
