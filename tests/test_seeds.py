"""The seed worked examples of docs/design/physics.md, each to the stated rounding.

First the article's arithmetic through the small functions, then the shipped seed profiles
through plan(). Where an article slips, the comment says what the planner does instead.
"""

from __future__ import annotations

import pytest
from conftest import planned

from napkinmath.core.physics.capacity import capacity_users, sequences_that_fit
from napkinmath.core.physics.cost import cost_per_user_month, own_lifetime_cost_per_user
from napkinmath.core.physics.decode import StepModel, critical_batch, ridge_flops_per_byte, round_batch
from napkinmath.core.physics.memory import kv_bytes_per_token_split, sequence_kv_bytes, weight_bytes_per_parameter
from napkinmath.core.physics.prefill import prefill_tokens_per_s, ttft_s
from napkinmath.core.specs.specs import ModelSpec

B200_BANDWIDTH = 8e12
B200_FP8 = 4500e12
KIMI_K2 = ModelSpec(params_b=1000, active_params_b=32, layers=61, hidden_size=7168, attention_heads=64, attention="mla",
                    kv_lora_rank=512, qk_rope_head_dim=64, kv_dtype="fp8", weight_dtype="fp4")
KIMI_K2_KV_BYTES_PER_TOKEN = 35_136  # kimi-k2-on-8xb200.txt
DENSE_32B = ModelSpec(params_b=32, layers=64, hidden_size=8192, attention_heads=64, kv_heads=8, head_dim=128,
                      weight_dtype="fp8", kv_dtype="fp8")


class TestNapkinInferenceCost:
    """napkin-inference-cost.txt: a 32B dense FP8 model on one B200."""

    def test_ridge_is_562_5(self):
        assert ridge_flops_per_byte(B200_FP8, B200_BANDWIDTH) == pytest.approx(562.5)

    def test_critical_batch_without_kv_is_281_not_331(self):
        # The article's "2B = 562 => B = 331" is an arithmetic slip: 562.5 / 2 = 281.25.
        step = StepModel(dense_read_s=32e9 / B200_BANDWIDTH, expert_read_s=0.0, experts=0, experts_per_token=0,
                         tokens_per_pool_sequence=1, kv_read_s_per_sequence=0.0, compute_s_per_sequence=0.0,
                         weight_compute_s_per_sequence=2 * 32e9 / B200_FP8, collective_s_per_sequence=0.0)
        crossing = critical_batch(step, include_kv=False)
        assert crossing == pytest.approx(281.25)
        assert round_batch(crossing) == 281

    def test_kv_bytes_per_token_with_gqa(self):
        full, sliding = kv_bytes_per_token_split(DENSE_32B, tensor=1, pipeline=1)
        assert (full, sliding) == (131_072, 0)
        # 26.2 GB per 200K-token user; 209.7 GB without GQA (the article's "8196" is a typo for 8192)
        assert full * 200_000 / 1e9 == pytest.approx(26.2, abs=0.05)
        assert full * 8 * 200_000 / 1e9 == pytest.approx(209.7, abs=0.05)

    @pytest.mark.parametrize(("context", "users"), [(200_000, 6), (25_000, 48), (4_000, 305), (16_000, 76)])
    def test_users_at_average_context(self, context, users):
        budget = 192e9 - 32e9  # 160 GB left after weights
        per_sequence = sequence_kv_bytes(131_072, 0, context, None, block_tokens=16)
        assert sequences_that_fit(budget, per_sequence) == users

    def test_duty_cycle_20_percent_holds_380(self):
        assert capacity_users(kv_groups=1, concurrent_sequences=76, duty_cycle=0.2) == 380

    def test_cost_per_user_month_is_9_60_not_9_36(self):
        # The article rounds $4/300 to $0.013 an hour first and gets $9.36.
        assert cost_per_user_month(4.0, 300, 720) == pytest.approx(9.60)

    def test_summary_cost_per_user_month(self):
        # napkin-inference-cost-summary.txt: $3/h, 500 users, 720 h
        assert cost_per_user_month(3.0, 500, 720) == pytest.approx(4.32)

    @pytest.mark.parametrize(("users", "dollars"), [(6, 6_667), (300, 133)])
    def test_owned_lifetime_cost_per_user(self, users, dollars):
        assert round(own_lifetime_cost_per_user(1, 40_000, users)) == dollars


class TestKimiK2:
    """kimi-k2-on-8xb200.txt: 1T params at fp4 on 8 x B200."""

    def test_kv_bytes_per_token_mla(self):
        full, _ = kv_bytes_per_token_split(KIMI_K2, tensor=8, pipeline=1)  # not divided by TP
        assert full == KIMI_K2_KV_BYTES_PER_TOKEN == 35_136

    @pytest.mark.parametrize(("context", "users"), [(80_000, 340), (32_000, 850)])
    def test_users_from_956_gb(self, context, users):
        # the article treats the node's 956 GB as one pool, with one token per KV block (no paging slack)
        per_sequence = sequence_kv_bytes(KIMI_K2_KV_BYTES_PER_TOKEN, 0, context, None, block_tokens=1)
        assert round(sequences_that_fit(956e9, per_sequence), -1) == users

    def test_decode_at_batch_1(self):
        # every active parameter read once per step at fp4; 50 TB/s is the article's node bandwidth
        bytes_per_token = KIMI_K2.active_params * weight_bytes_per_parameter(KIMI_K2)
        assert bytes_per_token == 16e9
        for mbu, tokens_per_s in ((1.0, 3_125), (0.11, 344)):
            step = StepModel(dense_read_s=bytes_per_token / (mbu * 50e12), expert_read_s=0.0, experts=0,
                             experts_per_token=0, tokens_per_pool_sequence=1, kv_read_s_per_sequence=0.0,
                             compute_s_per_sequence=0.0, weight_compute_s_per_sequence=0.0,
                             collective_s_per_sequence=0.0)
            assert 1 / step.step_time_s(1) == pytest.approx(tokens_per_s, abs=0.5)

    def test_ridge_fp4(self):
        assert ridge_flops_per_byte(10e15, 8e12) == pytest.approx(1_250)

    def test_prefill_rates_weight_flops_only(self):
        # 64 GFLOP per token on 80 PFLOPS; the article folds attention into its 6.4% MFU
        assert prefill_tokens_per_s(8, 64e9, 10e15, 0.0, 10e15, 1.0) == pytest.approx(1.25e6)
        assert prefill_tokens_per_s(8, 64e9, 10e15, 0.0, 10e15, 0.064) == pytest.approx(80_000)

    def test_ttft(self):
        assert ttft_s(80_000, 0.0, 80_000, 1, 0.0) == pytest.approx(1.0)
        assert ttft_s(80_000, 0.0, 80_000, 16, 0.0) == pytest.approx(16.0)


class TestShippedSeedProfiles:
    """The same figures through plan() on the profiles in profiles/."""

    def test_b200_full_context(self):
        result = planned("b200-32b-chat-200k.toml")
        assert result.capacity.users_served == 6
        assert result.capacity.limited_by == "memory"
        assert result.kv.bytes_per_token == 131_072
        assert result.decode.step_time * 1e3 == pytest.approx(23.7, abs=0.05)
        assert round(result.decode.tokens_per_s_per_user) == 42
        assert round(result.decode.tokens_per_s_aggregate) == 254
        assert result.roofline.ridge == pytest.approx(562.5)
        assert result.roofline.critical_batch_weights_only == 281
        assert result.roofline.critical_batch is None  # at 200K, KV traffic keeps decode memory-bound
        assert round(result.cost.own_lifetime_per_user) == 6_667

    def test_b200_average_context_25k(self):
        assert planned("b200-32b-chat-25k.toml").capacity.users_served == 48

    def test_b200_duty_cycle(self):
        result = planned("b200-32b-chat-duty20.toml")
        assert result.capacity.capacity_users == 380
        assert result.capacity.users_served == 300
        assert result.capacity.limited_by == "users"
        assert result.cost.per_user_month == pytest.approx(9.60)
        assert round(result.cost.own_lifetime_per_user) == 133

    @pytest.mark.parametrize(("name", "users"), [("kimi-k2-8xb200-80k.toml", 340), ("kimi-k2-8xb200-32k.toml", 850)])
    def test_kimi_users(self, name, users):
        result = planned(name)
        assert result.kv.bytes_per_token == 35_136
        assert result.memory.per_gpu.kv_budget * 8 == pytest.approx(956e9)
        # 8 attention-DP pools of 119.5 GB each: 8 x floor(42.5) = 336 at 80K, 8 x floor(106.3) = 848 at 32K
        assert round(result.capacity.users_served, -1) == users

    def test_kimi_roofline_and_prefill(self):
        result = planned("kimi-k2-8xb200-80k.toml")
        assert result.roofline.ridge == pytest.approx(1_250)
        assert result.prefill.tokens_per_s_peak == pytest.approx(1.25e6)
        assert round(result.prefill.tokens_per_s, -3) == 80_000
        assert round(result.prefill.ttft) == 1

    def test_kimi_attention_flops_count_at_long_prompts(self):
        # The planner counts attention: an 80K prompt costs more than the 64 GFLOP of weights alone
        result = planned("kimi-k2-8xb200-80k.toml")
        assert result.prefill.flops_per_token > 1.5 * 64e9
