"""python -m inner_universe_atlas (--stack NAME [--cwd DIR] | --file PATH | -) [--schema FILE]

Prints the validated atlas object as JSON; exit 1 with the reason on stderr; 2 on bad usage."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from .reader import AtlasReadError, load_schema, parse, read_file, read_stack


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="inner-universe-atlas", description="Validate the atlas stack output.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--stack", help="run `pulumi stack output --json --stack NAME`")
    src.add_argument("--file", help="a saved `pulumi stack output --json`")
    src.add_argument("stdin", nargs="?", choices=["-"], help="read stack output from stdin")
    ap.add_argument("--cwd", help="directory holding Pulumi.yaml (with --stack)")
    ap.add_argument("--schema", help="atlas JSON Schema (default: $IU_ATLAS_SCHEMA or the packaged copy)")
    args = ap.parse_args(argv)
    schema = load_schema(args.schema)
    try:
        if args.stack:
            atlas = read_stack(args.stack, cwd=args.cwd, schema=schema)
        elif args.file:
            atlas = read_file(args.file, schema)
        else:
            atlas = parse(sys.stdin.read(), schema)
    except AtlasReadError as e:
        print(f"inner-universe-atlas: {e.kind}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(atlas.raw, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
