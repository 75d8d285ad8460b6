"""The stages' shared options: --layers read the same whether its words come one by one or
quoted together."""

from argparse import Namespace

from pipeline.stages.options import layer_token, layers_of


def test_layers_quoted_as_one_argument_are_its_words():
    """LAYERS="4x8 p8 2x16 p4" reaches --layers as one word or four: the same layers."""
    assert layer_token("4x8 p8  2x16 p4") == "4x8 p8 2x16 p4"
    cnn = [layers_of(Namespace(model="cnn", layers=words), 12288)
           for words in (["4x8 p8 2x16 p4"], ["4x8", "p8", "2x16", "p4"])]
    assert cnn[0] == cnn[1] and cnn[0][1] == "4x8 p8 2x16 p4"
    assert layers_of(Namespace(model="l-layer", layers=[layer_token("20 7"), "5"]), 12288) == (
        [12288, 20, 7, 5, 1], "")
