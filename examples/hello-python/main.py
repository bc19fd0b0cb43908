import json
import sys

from hello.greet import greeting

if __name__ == "__main__":
    args = sys.argv[1:]
    print(greeting(args[0] if args else "world"))
    print(f"arguments: {json.dumps(args)}")
