"""Seeded damage to a file's bytes, shared by the fuzzing (project/test_fuzz.py) and the ledger's
tests (runs/test_ledger.py): each function takes the bytes and a random.Random and returns the
mutant."""

import json


def bit_flips(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


def header_bytes(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        data[rng.randrange(min(len(data), 4096))] = rng.randrange(256)
    return bytes(data)


def truncation(data, rng):
    return data[:rng.randrange(len(data))]


DAMAGE = (bit_flips, header_bytes, truncation)


def random_json_value(rng):
    return rng.choice([None, True, -1, 0, 1e308, "x", "<b>", [], {}, [[[[1]]]], {"a": None},
                       float(rng.randrange(-5, 300)), 10 ** 30])


def structural(data, rng):
    """Valid JSON with one value, anywhere in the tree, replaced by one of another kind."""
    tree = json.loads(data)
    places = []

    def walk(node):
        children = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else []
        for key, child in children:
            places.append((node, key))
            walk(child)

    walk(tree)
    for _ in range(rng.randint(1, 3)):
        node, key = rng.choice(places)
        node[key] = random_json_value(rng)
    if rng.random() < 0.1:
        tree = random_json_value(rng)
    return json.dumps(tree).encode()
