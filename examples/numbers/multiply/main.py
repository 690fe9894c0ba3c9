# HKube's README example, step 2 (a batch: one task per Range item): item * mul.


def start(args):
    value, factor = args["input"][0], args["input"][1]
    return value * factor
