"""Generate an image, wait for it and save it — against the real API or the built-in emulator.

    python examples/quickstart.py "a lighthouse at dusk" --out out/

With ``AUROUS_API_KEY`` set it uses the real API (and bills your team); without it, it runs the
in-process emulator, so it works with no key and no network.
"""

from __future__ import annotations

import argparse
import os
import sys

import aurous


def make_client() -> aurous.Client:
    if os.environ.get("AUROUS_API_KEY"):
        return aurous.Client()
    from aurous.emulator import Emulator

    print(
        "AUROUS_API_KEY is not set: using the local emulator (nothing is billed).", file=sys.stderr
    )
    return Emulator(speed=4).client()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("prompt")
    parser.add_argument("--out", default="out")
    parser.add_argument("--size", default="2k_16_9")
    args = parser.parse_args(argv)

    with make_client() as client:
        estimate = client.images.estimate(prompt=args.prompt, size=args.size)
        print(f"estimated cost: {estimate.estimated_cost.amount:g} credits")
        try:
            generation = client.images.create_and_wait(
                prompt=args.prompt,
                size=args.size,
                raise_on_failure=True,
                on_update=lambda g: print(f"  {g.id}: {g.status}"),
            )
        except aurous.GenerationFailedError as exc:
            print(f"generation failed: {exc.error_message}", file=sys.stderr)
            return 1
        except aurous.APIStatusError as exc:
            print(
                f"API error {exc.code}: {exc.message} (request {exc.request_id})", file=sys.stderr
            )
            return 1
        for path in client.images.download(generation, args.out):
            print(path)
        balance = client.balance.retrieve()
        print(f"balance: {balance.available_credits:g} credits available")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
