"""vLLM start-up log parser: real excerpts from public issue threads (tests/data/vllm_logs, see
SOURCES.md), the synthetic garbage files there, and edge cases built in the tests."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from napkinmath.core.errors import ProfileError
from napkinmath.core.sources.vllm_log import MAX_LINE_CHARS, VllmLogFacts, parse_vllm_log

LOGS = Path(__file__).parent / "data" / "vllm_logs"

FIELDS = [field.name for field in dataclasses.fields(VllmLogFacts)]


def parse_file(name: str) -> VllmLogFacts:
    return parse_vllm_log((LOGS / name).read_bytes().decode("utf-8", errors="replace"))


def facts(**given) -> VllmLogFacts:
    """A VllmLogFacts with every field None except those given (lines_used is required)."""
    values = {name: None for name in FIELDS}
    values.update(given)
    return VllmLogFacts(**values)


# Each expectation was read by eye from the file; every field is compared, so a None is asserted too.
REAL = {
    "v0_llama3_8b_h100_profile_table.log": facts(
        gpu_memory_utilization=0.90,
        total_gpu_memory_gib=79.22,
        weights_gib=14.96,
        non_torch_gib=1.79,
        activation_peak_gib=1.26,
        available_kv_gib=53.29,
        lines_used=6,
    ),
    "v0_llama3_8b_h100_tp2_truncated.log": facts(
        gpu_memory_utilization=0.90,
        total_gpu_memory_gib=79.22,
        weights_gib=7.48,
        non_torch_gib=3.58,
        activation_peak_gib=1.26,
        lines_used=5,
    ),
    "v0_llama32_11b_vision_h100_cuda_blocks.log": facts(
        gpu_memory_utilization=0.90,
        total_gpu_memory_gib=79.22,
        weights_gib=19.86,
        non_torch_gib=0.16,
        activation_peak_gib=36.63,
        available_kv_gib=14.65,
        gpu_blocks=6001,
        lines_used=3,
    ),
    "v0_llama31_8b_rtx3090_summary.log": facts(
        gpu_memory_utilization=0.90,
        total_gpu_memory_gib=23.58,
        weights_gib=14.9888,
        non_torch_gib=0.35,
        available_kv_gib=2.89,
        gpu_blocks=1478,
        max_concurrency=(29000, 0.82),
        max_model_len=29000,
        lines_used=4,
    ),
    "v0_deepseek_v2_lite_config.log": facts(
        version="0.5.0.post1",
        model="deepseek-ai/DeepSeek-V2-Lite",
        tensor_parallel_size=1,
        kv_cache_dtype="auto",
        max_model_len=32000,
        weights_gib=29.301,
        gpu_blocks=5549,
        lines_used=3,
    ),
    "v0_deepseek_v3_awq_tp16_config.log": facts(
        version="0.8.3rc2.dev224+g49c0d11ec",
        model="/models/cognitivecomputations_DeepSeek-V3-0324-AWQ/",
        tensor_parallel_size=16,
        kv_cache_dtype="auto",
        max_model_len=8192,
        lines_used=1,
    ),
    "v0_deepseek_v3_awq_3090_workers.log": facts(
        gpu_memory_utilization=0.99,
        total_gpu_memory_gib=23.58,
        weights_gib=21.21,
        non_torch_gib=0.20,
        activation_peak_gib=0.37,
        available_kv_gib=1.57,
        lines_used=5,
    ),
    "v0_internlm_20b_xinference_partial.log": facts(
        model="/root/.xinference/cache/internlm-chat-20b-pytorch-20b",
        tensor_parallel_size=1,
        kv_cache_dtype="auto",
        max_model_len=4096,
        lines_used=1,
    ),
    "v1_early_llama31_70b_w8a8_gpu_blocks.log": facts(
        weights_gib=67.7229,
        gpu_blocks=1381,
        max_concurrency=(2048, 10.79),
        max_model_len=2048,
        lines_used=3,
    ),
    "v1_gemma3_1b_sliding_window.log": facts(
        weights_gib=1.9134,
        cuda_graph_gib=0.44,
        kv_cache_tokens=1139728,
        max_concurrency=(32768, 34.78),
        max_model_len=32768,
        lines_used=4,
    ),
    "v1_gemma3_27b_tp2_docker_compose.log": facts(
        kv_cache_tokens=54048,
        max_concurrency=(4096, 13.20),
        max_model_len=4096,
        lines_used=4,
    ),
    "v1_gemma3_tp4_workers_crash.log": facts(weights_gib=13.1665, lines_used=4),
    "v1_gemma3_27b_gptq_tp2_api_server.log": facts(version="0.7.4.dev439+gc77620d2", lines_used=1),
    "v1_gpt_oss_120b_h100_caret_ansi.log": facts(model="openai/gpt-oss-120b", weights_gib=64.38, lines_used=2),
    "v1_gpt_oss_120b_h100_negative_kv.log": facts(weights_gib=65.9651, available_kv_gib=-2.14, lines_used=2),
    "v1_qwen3_235b_a22b_fp8_tp4.log": facts(available_kv_gib=8.11, kv_cache_tokens=178880, lines_used=2),
    "v1_fp8_kv_cache_100k.log": facts(
        available_kv_gib=10.55,
        kv_cache_tokens=230528,
        max_concurrency=(100000, 2.31),
        max_model_len=100000,
        lines_used=3,
    ),
    "v1_deepseek_v2_lite_l4_pp_workers.log": facts(
        available_kv_gib=12.13,  # rank 0's, although rank 3 printed 11.33 first
        kv_cache_tokens=807792,
        max_concurrency=(1024, 788.86),
        max_model_len=1024,
        lines_used=8,
    ),
    "v1_qwen3_14b_single_gpu.log": facts(
        available_kv_gib=6.51,
        kv_cache_tokens=42656,
        max_concurrency=(32768, 1.30),
        max_model_len=32768,
        lines_used=3,
    ),
    "v1_qwen25_7b_dp_engine_config.log": facts(
        version="0.8.3",
        model="/mnt/tenant-home_speed/Model/Qwen/Qwen2.5-7B-Instruct",
        tensor_parallel_size=1,
        kv_cache_dtype="auto",
        max_model_len=102400,
        lines_used=1,
    ),
    "v025_deepseek_v4_flash_dp8_banner.log": facts(
        version="0.25.0",
        model="/root/.cache/huggingface/hub/models--deepseek-ai--DeepSeek-V4-Flash-0731/snapshots/"
        "7872f01b1d1fe23eabc4c98b48bffcef5a386062",
        gpu_memory_utilization=0.95,
        kv_cache_dtype="fp8",
        lines_used=3,
    ),
    # Added with the validation set; figures checked against the files by grep (see SOURCES.md).
    "v1_qwen3_0_6b_a100_lm_eval_flashinfer.log": facts(weights_gib=1.1201, available_kv_gib=69.66, kv_cache_tokens=652144,
                                                       max_concurrency=(4096, 159.21), max_model_len=4096, lines_used=4),
    "v1_qwen3_30b_a3b_a10x4_tp4_docker.log": facts(kv_cache_tokens=198784, max_concurrency=(8192, 24.27),
                                                   max_model_len=8192, lines_used=2),
    "v1_gpt_oss_120b_h100_util095_kv_too_small.log": facts(available_kv_gib=1.71, lines_used=1),
    # the post wraps lines at 120 columns, so the concurrency and profiling lines are cut and not read
    "v1_gpt_oss_120b_tp2_80gb_blackfish.log": facts(cuda_graph_gib=0.94, available_kv_gib=35.82, kv_cache_tokens=1043264,
                                                    lines_used=5),
    "v1_gpt_oss_20b_a100_util065_page.log": facts(version="0.19.0", model="openai/gpt-oss-20b", gpu_memory_utilization=0.65,
                                                  weights_gib=13.72, available_kv_gib=36.56, max_model_len=131072,
                                                  lines_used=5),
    "v1_mistral_small_31_24b_tp2_example.log": facts(available_kv_gib=16.2, kv_cache_tokens=212352,
                                                     max_concurrency=(8192, 25.92), max_model_len=8192, lines_used=6),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_excerpt(name):
    assert parse_file(name) == REAL[name]


def test_every_real_excerpt_is_tested_and_listed_in_sources():
    on_disk = {path.name for path in LOGS.glob("*.log") if not path.name.startswith("synthetic_")}
    assert on_disk == set(REAL)
    sources = (LOGS / "SOURCES.md").read_text(encoding="utf-8")
    for name in on_disk | {path.name for path in LOGS.glob("synthetic_*.log")}:
        assert f"`{name}`" in sources, f"{name} is not described in SOURCES.md"


def test_gb_is_read_as_gib():
    # Llama-3.1-8B: 16.06e9 bytes of bf16 weights = 14.96 GiB; vLLM 0.6 printed "14.9888 GB".
    assert parse_file("v0_llama31_8b_rtx3090_summary.log").weights_gib == 14.9888
    assert parse_vllm_log("Model loading took 512 MiB and 1.0 seconds").weights_gib == 0.5


def test_workers_agree_first_value_kept():
    text = (LOGS / "v0_deepseek_v3_awq_3090_workers.log").read_text(encoding="utf-8")
    assert text.count("model weights take 21.21GiB") == 3
    assert parse_vllm_log(text).weights_gib == 21.21


def test_rank_zero_wins_over_earlier_ranks():
    text = (
        "(VllmWorker rank=1 pid=2) INFO [gpu_worker.py:233] Available KV cache memory: 11.33 GiB\n"
        "(VllmWorker rank=0 pid=1) INFO [gpu_worker.py:233] Available KV cache memory: 12.13 GiB\n"
        "(VllmWorker rank=2 pid=3) INFO [gpu_worker.py:233] Available KV cache memory: 10.00 GiB\n"
    )
    assert parse_vllm_log(text).available_kv_gib == 12.13
    # "(VllmWorker TP1 pid=...)" is a non-zero rank; the driver's unprefixed line wins
    text = (
        "(VllmWorker TP1 pid=3527) INFO Model loading took 30.00 GiB and 9 seconds\n"
        "INFO Model loading took 31.00 GiB and 9 seconds\n"
    )
    assert parse_vllm_log(text).weights_gib == 31.0


# ---------------------------------------------------------------------------------------------
# one-line forms from the brief that no collected excerpt contains


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("INFO 05-01 [gpu_worker.py:227] Model weights take 14.99GiB", "weights_gib", 14.99),
        ("INFO [kv_cache_utils.py:716] GPU KV cache size: 476,016 tokens", "kv_cache_tokens", 476016),
        (
            "INFO [kv_cache_utils.py:720] Maximum concurrency for 8,192 tokens per request: 58.11x",
            "max_concurrency",
            (8192, 58.11),
        ),
        ("INFO 05-01 [gpu_model_runner.py:1595] Model loading took 14.9888 GiB and 4.47 seconds", "weights_gib", 14.9888),
        ("INFO [gpu_worker.py:227] Available KV cache memory: 8.11 GiB", "available_kv_gib", 8.11),
        ("INFO [cuda graph] CUDA graph capturing finished, took 0.51 GiB", "cuda_graph_gib", 0.51),
        ("INFO [gpu_model_runner.py:1] Graph capturing finished in 15 secs, took 0.51 GiB", "cuda_graph_gib", 0.51),
        ("INFO 05-01 [executor_base.py:95] # cuda blocks: 27156, # CPU blocks: 2048", "gpu_blocks", 27156),
        ("INFO 05-01 [api_server.py:1] vLLM API server version 0.9.1", "version", "0.9.1"),
        (
            "INFO [core.py:1] Initializing a V1 LLM engine (v0.8.5) with config: model='meta-llama/Llama-3.1-8B', "
            "dtype=torch.bfloat16, max_seq_len=8192, tensor_parallel_size=2, kv_cache_dtype=fp8_e4m3, quantization=fp8",
            "kv_cache_dtype",
            "fp8_e4m3",
        ),
        (
            "INFO [api_server.py:1] non-default args: {'model': 'Qwen/Qwen3-8B', 'max_model_len': 16384, "
            "'tensor_parallel_size': 4, 'gpu_memory_utilization': 0.85}",
            "tensor_parallel_size",
            4,
        ),
    ],
)
def test_one_line_forms(line, field, value):
    assert getattr(parse_vllm_log(line), field) == value


def test_engine_config_line_all_fields():
    found = parse_vllm_log(
        "INFO 05-01 [core.py:58] Initializing a V1 LLM engine (v0.8.5) with config: model='meta-llama/Llama-3.1-8B', "
        "speculative_config=None, dtype=torch.bfloat16, max_seq_len=8192, tensor_parallel_size=2, "
        "kv_cache_dtype=auto, quantization=fp8, served_model_name=meta-llama/Llama-3.1-8B"
    )
    assert (found.version, found.model, found.tensor_parallel_size, found.max_model_len, found.kv_cache_dtype) == (
        "0.8.5",
        "meta-llama/Llama-3.1-8B",
        2,
        8192,
        "auto",
    )


# ---------------------------------------------------------------------------------------------
# garbage and partial input


def test_truncated_lines_are_ignored_not_misread():
    found = parse_file("synthetic_truncated_line.log")
    assert found == facts(weights_gib=14.9888, available_kv_gib=54.91, lines_used=2)


def test_binary_junk_around_a_real_line():
    found = parse_vllm_log((LOGS / "synthetic_binary_junk.log").read_bytes().decode("utf-8", errors="replace"))
    assert found == facts(kv_cache_tokens=476016, lines_used=1)
    # raw bytes are accepted as well
    assert parse_vllm_log((LOGS / "synthetic_binary_junk.log").read_bytes()).kv_cache_tokens == 476016


def test_pure_binary_junk_raises_profile_error():
    junk = bytes(range(256)).decode("latin-1") * 64 + "\x00\ufffd" * 100
    with pytest.raises(ProfileError, match="no vLLM start-up lines found"):
        parse_vllm_log(junk)


def test_log_without_vllm_lines_names_the_problem():
    with pytest.raises(ProfileError, match=r"no vLLM start-up lines found; expected lines like 'GPU KV cache size: N tokens'"):
        parse_file("synthetic_no_vllm_lines.log")


@pytest.mark.parametrize("text", ["", "\n\n\r\n", "   "])
def test_empty_input_raises_profile_error(text):
    with pytest.raises(ProfileError):
        parse_vllm_log(text)


def test_partial_real_log_does_not_raise():
    # the source thread's TP2 block stops at "available_kv_cache_memory" with no value
    assert parse_file("v0_llama3_8b_h100_tp2_truncated.log").available_kv_gib is None


def test_crlf_and_bare_cr_line_endings():
    text = (LOGS / "v1_qwen3_14b_single_gpu.log").read_text(encoding="utf-8")
    expected = REAL["v1_qwen3_14b_single_gpu.log"]
    assert parse_vllm_log(text.replace("\n", "\r\n")) == expected
    assert parse_vllm_log(text.replace("\n", "\r")) == expected


def test_real_ansi_escape_codes():
    text = (LOGS / "v1_gpt_oss_120b_h100_caret_ansi.log").read_text(encoding="utf-8")
    with_escapes = text.replace("^[", "\x1b")
    assert "\x1b[0;36m" in with_escapes
    assert parse_vllm_log(with_escapes) == REAL["v1_gpt_oss_120b_h100_caret_ansi.log"]
    coloured = "\x1b[32mINFO\x1b[0m [kv_cache_utils.py:1] GPU KV cache size: \x1b[1m476,016\x1b[0m tokens"
    assert parse_vllm_log(coloured).kv_cache_tokens == 476016


def test_very_long_line_is_cut_not_choked_on():
    long_line = "x" * (MAX_LINE_CHARS * 50) + " GPU KV cache size: 1,000 tokens"
    text = long_line + "\nINFO GPU KV cache size: 476,016 tokens\n"
    assert parse_vllm_log(text) == facts(kv_cache_tokens=476016, lines_used=1)


def test_huge_input_is_scanned_in_one_linear_pass():
    # a V0 metrics line, as a long-running server prints every few seconds ("GPU KV cache usage")
    filler = (
        "INFO 05-22 02:20:59 metrics.py:229] Avg prompt throughput: 0.0 tokens/s, Avg generation throughput: "
        "0.1 tokens/s, Running: 1 reqs, Swapped: 0 reqs, Pending: 0 reqs, GPU KV cache usage: 0.1%, "
        "CPU KV cache usage: 0.0%\n"
    )
    body = filler * (50_000_000 // len(filler))
    text = (LOGS / "v1_qwen3_14b_single_gpu.log").read_text(encoding="utf-8") + body + "\x00" * 1000
    assert len(text) > 49_000_000
    started = time.perf_counter()
    found = parse_vllm_log(text)
    elapsed = time.perf_counter() - started
    assert found == REAL["v1_qwen3_14b_single_gpu.log"]
    print(f"50 MB parsed in {elapsed:.2f} s")  # informative only: no timing assertion


def test_facts_are_frozen():
    found = parse_file("v1_qwen3_14b_single_gpu.log")
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.kv_cache_tokens = 1  # type: ignore[misc]
