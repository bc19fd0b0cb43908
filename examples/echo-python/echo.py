import sys


def main() -> int:
    prefix = sys.argv[1] if len(sys.argv) > 1 else "echo"
    count = 0
    for line in sys.stdin:
        count += 1
        sys.stdout.write(f"{prefix}: {line.rstrip(chr(10))}\n")
    sys.stderr.write(f"echoed {count} line{'' if count == 1 else 's'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
