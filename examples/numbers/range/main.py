# HKube's README example, step 1: Range(n) -> [1, 2, ..., n].


def start(args):
    n = args["input"][0]
    return list(range(1, n + 1))
