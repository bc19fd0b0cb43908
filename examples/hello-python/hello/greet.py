from importlib.resources import files


def greeting(name: str) -> str:
    template = files("hello").joinpath("greeting.txt").read_text(encoding="utf-8").strip()
    return template.format(name=name)
