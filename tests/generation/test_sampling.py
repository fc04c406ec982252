"""Token draws: the top-p nucleus by sort and by search against an exact float64 one, and draws that follow
temperature and top-p."""

import pytest
import torch

from naa.generation.sampling import _nucleus_by_search, draw_tokens, nucleus

GREEDY = 1e-6  # top-p this small keeps only the most likely token


def test_nucleus_keeps_the_smallest_set_that_reaches_the_mass() -> None:
    probs = torch.tensor([[0.15, 0.5, 0.05, 0.3], [0.25, 0.25, 0.25, 0.25]])
    # row 0 ranked: 0.5 (mass above 0), 0.3 (0.5), 0.15 (0.8), 0.05 (0.95)
    # top-p 0.7 keeps the first two (0.5 < 0.7), drops 0.15 (0.8 >= 0.7) and 0.05;
    # row 1 ties: mass above is 0, 0.25, 0.5, 0.75 in sort order, so the sort keeps three of the four; the
    # search counts only strictly more likely tokens (mass 0 for each) and keeps all four
    for find, ties_kept in ((nucleus, 3), (_nucleus_by_search, 4)):
        kept = find(probs, 0.7)
        assert kept[0].tolist() == [False, True, False, True]
        assert kept[1].sum().item() == ties_kept
        assert find(probs, 0.85)[0].tolist() == [True, True, False, True]
        assert find(probs, GREEDY)[0].tolist() == [False, True, False, False]


def _exact_nucleus(probs: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The nucleus in float64, and the tokens whose mass above is within float32 noise of ``top_p``."""
    exact = probs.double()
    ranked, order = exact.sort(dim=-1, descending=True)
    mass_above = torch.zeros_like(exact).scatter(-1, order, ranked.cumsum(dim=-1) - ranked)
    return mass_above < top_p, (mass_above - top_p).abs() < 1e-5


def _assert_exact_but_for_float_noise(found: torch.Tensor, probs: torch.Tensor, top_p: float) -> None:
    exact, edge = _exact_nucleus(probs, top_p)
    wrong = found != exact
    assert not (wrong & ~edge).any() and wrong.sum() <= 2


@pytest.mark.parametrize("top_p", [0.3, 0.9, 0.99])
def test_sort_and_search_find_the_exact_nucleus(top_p: float) -> None:
    torch.manual_seed(0)
    probs = (torch.randn(8, 4_000) * 3).softmax(dim=-1)
    _assert_exact_but_for_float_noise(nucleus(probs, top_p), probs, top_p)
    _assert_exact_but_for_float_noise(_nucleus_by_search(probs, top_p), probs, top_p)


def test_compiled_nucleus_is_the_search_and_exact() -> None:
    torch.manual_seed(1)
    probs = (torch.randn(8, 4_000) * 3).softmax(dim=-1)
    probs[0] = 1 / 4_000  # all tied: the sort would keep 3,600 of them, the search keeps every one
    found = torch.compile(nucleus)(probs, 0.9)  # compiling, nucleus takes the search (~10 s here)
    assert found[0].all()
    _assert_exact_but_for_float_noise(found[1:], probs[1:], 0.9)


def test_draws_follow_temperature_and_top_p() -> None:
    torch.manual_seed(0)
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log().expand(40_000, 4)

    def shares(tokens: torch.Tensor) -> list[float]:
        return (torch.bincount(tokens, minlength=4) / tokens.numel()).tolist()

    assert shares(draw_tokens(logits, 1.0, 1.0)) == pytest.approx(probs.tolist(), abs=0.01)
    sharpened = probs**2 / (probs**2).sum()  # temperature 0.5: p^(1/0.5), renormalised
    assert shares(draw_tokens(logits, 0.5, 1.0)) == pytest.approx(sharpened.tolist(), abs=0.01)
    # top-p 0.7 keeps 0.5 and 0.3, renormalised to 0.625 and 0.375; the others are never drawn
    assert shares(draw_tokens(logits, 1.0, 0.7)) == pytest.approx([0.625, 0.375, 0.0, 0.0], abs=0.01)
