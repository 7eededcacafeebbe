"""The CUDA side of multi-process training, on a machine without a GPU: what
``distributed.wrap_trainer`` does for ``cuda:N`` (SyncBatchNorm, the local GPU as DDP's device,
the same parameters in the optimisers, checkpoints under the plain names), with DDP's
constructor faked at the boundary; and GanDDP's direct calls (frozen model, no_grad) and
attribute pass-through in a real 1-process gloo group."""

from __future__ import annotations

import torch
import torch.distributed as td
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ganpaint.train import distributed as dd
from ganpaint.train import make_recipe


class _FakeDDP(nn.Module):
    made: list = []

    def __init__(self, module: nn.Module, device_ids=None) -> None:
        super().__init__()
        self.module = module
        _FakeDDP.made.append(device_ids)


def _pix2pix_batch_norm():
    return make_recipe("pix2pix", crop=32, num_downs=5, ngf=4, ndf=4, d_layers=1, norm="batch").build("cpu")


def test_cuda_ranks_get_syncbatchnorm_and_their_own_gpu(monkeypatch) -> None:
    monkeypatch.setattr(dd, "GanDDP", _FakeDDP)
    _FakeDDP.made = []
    t = _pix2pix_batch_norm()
    G, D = t.G, t.D
    before = {k: v.clone() for k, v in G.state_dict().items()}
    names = dd.wrap_trainer(t, dd.DistContext(rank=3, world=4, local_rank=1), "cuda:1")
    assert sorted(names) == ["D", "G"] and _FakeDDP.made == [[1], [1]]
    assert t.G.module is G and t.D.module is D and t.modules == {"G": G, "D": D} and t.ema_sources["G"] is G
    assert not any(type(m) is nn.BatchNorm2d for m in G.modules())
    assert sum(isinstance(m, nn.SyncBatchNorm) for m in G.modules()) >= 4
    assert G.state_dict().keys() == before.keys()  # checkpoints keep their names
    assert all(torch.equal(G.state_dict()[k], v) for k, v in before.items())
    assert {id(p) for p in t.optimizers["G"].param_groups[0]["params"]} == {id(p) for p in G.parameters()}


def test_cpu_ranks_keep_batch_norm_and_a_plain_run_wraps_nothing(monkeypatch) -> None:
    monkeypatch.setattr(dd, "GanDDP", _FakeDDP)
    _FakeDDP.made = []
    t = _pix2pix_batch_norm()
    assert dd.wrap_trainer(t, dd.SINGLE, "cuda") == [] and t.G is t.modules["G"]
    dd.wrap_trainer(t, dd.DistContext(rank=1, world=2, local_rank=1), "cpu")
    assert _FakeDDP.made == [None, None] and isinstance(t.G, _FakeDDP)
    assert any(type(m) is nn.BatchNorm2d for m in t.modules["G"].modules())


def test_ganddp_calls_frozen_and_no_grad_models_directly(tmp_path, monkeypatch) -> None:
    td.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        m = nn.Linear(3, 2)
        m.style_dim = 7  # an attribute DDP itself lacks (StyleGAN2's G.style_dim, G.mapping ...)
        w = dd.GanDDP(m)
        through = []
        real = DistributedDataParallel.forward
        monkeypatch.setattr(DistributedDataParallel, "forward",
                            lambda self, *a, **k: through.append(1) or real(self, *a, **k))
        x = torch.rand(4, 3)
        w(x).sum().backward()
        assert through == [1]
        with torch.no_grad():
            w(x)
        m.requires_grad_(False)
        y = w(x)
        assert through == [1] and torch.equal(y, m(x))
        assert w.style_dim == 7 and w.in_features == 3 and w.module is m
    finally:
        td.destroy_process_group()
