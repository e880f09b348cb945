"""Control limits, run rules and capability on made-up series whose answers are worked out by
hand here (no database)."""

import pytest

from qc import spc
from qc.spc import Rule

# A baseline whose centre is 0 and whose sigma is 1: one moving range of 1.128 = d2.
UNIT = spc.control_limits([-0.564, 0.564])


def test_limits_from_a_baseline_by_hand():
    # Mean (10 + 12 + 11 + 13 + 9) / 5 = 11; moving ranges 2, 1, 2, 4, mean 2.25;
    # sigma 2.25 / 1.128 = 1.994681; limits 11 +/- 5.984043; MR upper 3.267 x 2.25 = 7.35075.
    limits = spc.control_limits([10, 12, 11, 13, 9])
    assert limits.centre == pytest.approx(11)
    assert limits.mean_moving_range == pytest.approx(2.25)
    assert limits.sigma == pytest.approx(1.994681, abs=1e-6)
    assert limits.upper == pytest.approx(16.984043, abs=1e-6)
    assert limits.lower == pytest.approx(5.015957, abs=1e-6)
    assert limits.moving_range_upper == pytest.approx(7.35075)
    assert limits.baseline_points == 5


def test_a_baseline_of_one_point_is_refused():
    with pytest.raises(spc.NotEnoughPoints):
        spc.control_limits([4.2])


def test_the_unit_baseline_is_centred_on_zero_with_sigma_one():
    assert UNIT.centre == pytest.approx(0)
    assert UNIT.sigma == pytest.approx(1)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        # A point beyond 3 sigma, above and below.
        ([0, 0.5, 3.5, 0, -3.2], {2: [Rule.BEYOND_3_SIGMA], 4: [Rule.BEYOND_3_SIGMA]}),
        # 2 of 3 beyond 2 sigma on one side: fires on the point that completes the pair.
        ([0, 2.5, 0.3, 2.2, -0.1], {3: [Rule.TWO_OF_THREE_BEYOND_2_SIGMA]}),
        # ... but not for two points beyond 2 sigma on opposite sides.
        ([0, 2.5, 0.3, -2.2, -0.1], {}),
        # 4 of 5 beyond 1 sigma on one side.
        ([1.5, 1.2, -0.5, 1.1, 1.3, 0], {4: [Rule.FOUR_OF_FIVE_BEYOND_1_SIGMA]}),
        # 8 in a row above the centre, then a ninth: each point that completes a run fires.
        (
            [0.5, 0.4, 0.6, 0.3, 0.5, 0.2, 0.7, 0.1, 0.4, -0.2],
            {7: [Rule.EIGHT_ON_ONE_SIDE], 8: [Rule.EIGHT_ON_ONE_SIDE]},
        ),
        # 7 in a row is not 8.
        ([0.5, 0.4, 0.6, 0.3, 0.5, 0.2, 0.7, -0.1], {}),
        # 6 rising points.
        ([-0.5, -0.3, 0.1, 0.2, 0.4, 0.6, 0.5], {5: [Rule.SIX_TRENDING]}),
        # 6 falling points.
        ([0.6, 0.4, 0.2, 0.1, -0.3, -0.5], {5: [Rule.SIX_TRENDING]}),
        # A tie breaks a trend, and a point on the centre line is on neither side.
        ([0, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5], {}),
        # A quiet series fires nothing.
        ([0.2, -0.4, 0.9, -0.8, 0.1, 0.3, -0.2, 0.5, -0.6, 0.0], {}),
    ],
)
def test_each_rule_fires_exactly_where_it_should(series, expected):
    assert spc.signals(series, UNIT) == expected


def test_one_point_can_fire_several_rules():
    # Seven points above, the eighth beyond 3 sigma and also rising six in a row.
    series = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 3.4]
    assert spc.rules_fired_at(series, 7, UNIT) == [
        Rule.BEYOND_3_SIGMA,
        Rule.EIGHT_ON_ONE_SIDE,
        Rule.SIX_TRENDING,
    ]


def test_rules_scale_with_the_limits():
    # Centre 100, sigma 10 (moving range 11.28): 131 is beyond 3 sigma, 129 is not.
    limits = spc.control_limits([94.36, 105.64])
    assert spc.signals([129, 100, 100, 131], limits) == {3: [Rule.BEYOND_3_SIGMA]}


# Ten values around 10 with specs 9 to 11, worked by hand:
# mean 10.0; moving ranges 0.4 0.2 0.4 0.8 0.5 0.2 0.4 0.6 0.3, mean 0.422222;
# within sigma 0.422222 / 1.128 = 0.374310; Cpk = 1 / (3 x 0.374310) = 0.890526;
# overall sigma sqrt(0.60 / 9) = 0.258199; Ppk = 1 / (3 x 0.258199) = 1.290994;
# 95 % interval: 1.959964 x sqrt(1/90 + index^2 / 18) either side.
TEN = [9.8, 10.2, 10.0, 10.4, 9.6, 10.1, 9.9, 10.3, 9.7, 10.0]


def test_capability_by_hand():
    found = spc.capability(TEN, lower=9, upper=11, minimum_points=10)
    assert found.points == 10
    assert found.cpk == pytest.approx(0.890526, abs=1e-6)
    assert found.ppk == pytest.approx(1.290994, abs=1e-6)
    assert found.ppk_interval == pytest.approx((0.659826, 1.922163), abs=1e-5)
    assert found.cpk_interval == pytest.approx((0.430169, 1.350883), abs=1e-5)
    assert "normally distributed" in found.caveat


def test_capability_against_one_spec_limit():
    # Only a lower limit of 9: (10 - 9) / 3 sigma, the same figures as with both limits here.
    found = spc.capability(TEN, lower=9, upper=None, minimum_points=10)
    assert found.cpk == pytest.approx(0.890526, abs=1e-6)
    # Only an upper limit of 10.5: (10.5 - 10) / (3 x 0.258199) = 0.645497.
    found = spc.capability(TEN, lower=None, upper=10.5, minimum_points=10)
    assert found.ppk == pytest.approx(0.645497, abs=1e-6)


def test_capability_needs_enough_points():
    with pytest.raises(spc.NotEnoughPoints, match="at least 10 points; there are 9"):
        spc.capability(TEN[:9], lower=9, upper=11, minimum_points=10)


def test_capability_of_values_that_do_not_vary_is_refused():
    with pytest.raises(spc.NotEnoughPoints, match="do not vary"):
        spc.capability([5.0] * 12, lower=4, upper=6, minimum_points=10)


def test_capability_needs_a_spec_limit():
    with pytest.raises(ValueError, match="spec limit"):
        spc.capability(TEN, lower=None, upper=None, minimum_points=10)
