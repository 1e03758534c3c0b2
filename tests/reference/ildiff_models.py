"""ildiff_models.py: the PyTorch reference of every ILDiff model (DESIGN.md section 2). The C models in src/models/
load weights by the state-dict keys these classes produce, so every module name here is part of the weight format.

Tensors are NCHW (NCTHW for Conv3d); images are RGB in [0, 1]; latents are 4 x H/8 x W/8, unscaled.

  VaeEncoder (E)            rgb -> z                       TAESD-like, ReLU blocks, 3 stride-2 stages
  VaeDecoder (D)            z -> rgb                       tanh clamp, 3 nearest-x2 stages
  OffsetEncoder (E_a)       [alpha, padded rgb] -> offset  LayerDiffuse's 9 convs, keys blocks.{0,2,..,16}
  TransparentDecoder (D_T)  (rgb, latent) -> alpha, fg     LayerDiffuse UNet1024 structure (diffusers key names)
  LayoutEncoder (student)   rgb -> f (C_f, S/p, S/p)       plain ViT (EfficientSAM style) + SAM-style neck, input
                                                           area-resized to S x S (EfficientSAM resizes to 1024^2)
  SamiDecoder               masked tokens -> teacher dim   cross-attention decoder + linear projection (SAMI)
  LayoutTeacher             rgb -> features at 1/16, part  conv encoder-decoder on part masks; the heads are
                            mask / boundary / affinity     object, part boundary and part affinities
  TemporalAdapter           f_1..T -> l_t on latent grid   depth x [Conv3d-GroupNorm-ReLU], conv2d, adaptive pool
  ILDiff                    rgb clip -> alpha, fg          the matting path: E, student, temporal, D_T
Losses (functions at the bottom): alpha_loss, rgb_loss, harmless_loss, distill_loss, teacher_loss, coherence_loss.
"""
import math
from dataclasses import dataclass, field
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


# ------------------------------------------------------------------------------------------------------------------
# Configurations (the defaults are the shipped model's; tiny ones for the parity tests live in ref_models.py)

@dataclass
class VaeConfig:
    enc_widths: Tuple[int, ...] = (32, 64, 64)      # one stride-2 stage each: 1/2, 1/4, 1/8
    dec_widths: Tuple[int, ...] = (64, 64, 32, 16)  # at 1/8, 1/4, 1/2 and full resolution
    blocks: int = 1                                 # blocks (2 convs each) per stage
    latent: int = 4


@dataclass
class OffsetConfig:
    widths: Tuple[int, ...] = (16, 32, 64, 128)     # LayerDiffuse uses (32, 64, 128, 256)
    latent: int = 4


@dataclass
class DecoderConfig:
    widths: Tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    layers: int = 1            # resnets per down block; up blocks have layers + 1
    groups: int = 4            # GroupNorm groups everywhere (UNet1024: 4)
    head_dim: int = 8          # attention heads = C / head_dim (UNet1024: 8)
    attn_levels: int = 1       # attention in the last `attn_levels` down blocks, the mid block, the first up blocks
    latent_level: int = 3      # latent added before down block 3, i.e. at 1/8
    latent: int = 4


@dataclass
class StudentConfig:
    img_size: int = 256        # the fixed input size: every frame is area-resized to img_size x img_size
    patch: int = 16
    dim: int = 192
    depth: int = 6
    heads: int = 3
    mlp_ratio: int = 4
    out_dim: int = 64          # neck output channels C_f, the feature the temporal adapter reads


@dataclass
class SamiConfig:
    depth: int = 2             # cross-attention blocks
    heads: int = 3
    mlp_ratio: int = 4
    teacher_dim: int = 256
    mask_ratio: float = 0.75


@dataclass
class TeacherConfig:
    widths: Tuple[int, ...] = (32, 64, 128, 256)   # stages at 1/2, 1/4, 1/8, 1/16; features at 1/16
    res_per_stage: int = 2
    groups: int = 8
    aff_offsets: Tuple[Tuple[int, int], ...] = ((0, 1), (1, 0), (0, 4), (4, 0))  # (dy, dx) at the head's 1/2 grid

    @property
    def heads(self):
        return 2 + len(self.aff_offsets)   # object, boundary, one channel per affinity offset


@dataclass
class TemporalConfig:
    channels: int = 64         # = StudentConfig.out_dim
    depth: int = 5             # 0, 3, 5 or 8
    groups: int = 8
    latent: int = 4


@dataclass
class ILDiffConfig:
    vae: VaeConfig = field(default_factory=VaeConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    temporal: TemporalConfig = field(default_factory=TemporalConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)

    @property
    def multiple(self):        # H and W must be multiples of this
        return max(2 ** (len(self.decoder.widths) - 1), 8)


# ------------------------------------------------------------------------------------------------------------------
# Shared pieces

def conv3(cin, cout, stride=1, bias=True):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias)


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of each pixel (SAM's LayerNorm2d). Keys: weight, bias."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class ResnetBlock(nn.Module):
    """diffusers ResnetBlock2D without time embedding: GN-SiLU-conv-GN-SiLU-conv + shortcut (1x1 if C changes).
    Keys: norm1, conv1, norm2, conv2, conv_shortcut."""

    def __init__(self, cin, cout, groups, eps=1e-5):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = conv3(cin, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = conv3(cout, cout)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        s = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return s + h


class SpatialAttention(nn.Module):
    """diffusers Attention as UNet1024 uses it: GN, tokens, q/k/v Linear, heads of head_dim, to_out.0, residual.
    Keys: group_norm, to_q, to_k, to_v, to_out.0."""

    def __init__(self, c, groups, head_dim, eps=1e-5):
        super().__init__()
        self.heads = c // head_dim
        self.group_norm = nn.GroupNorm(groups, c, eps=eps)
        self.to_q = nn.Linear(c, c)
        self.to_k = nn.Linear(c, c)
        self.to_v = nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.group_norm(x).flatten(2).transpose(1, 2)   # (N, HW, C)
        o = mha(self.to_q(t), self.to_k(t), self.to_v(t), self.heads)
        o = self.to_out[0](o).transpose(1, 2).reshape(n, c, h, w)
        return x + o


def mha(q, k, v, heads):
    """Multi-head attention core: q (N, Lq, C), k and v (N, Lk, C) -> (N, Lq, C); scale head_dim^-0.5."""
    n, lq, c = q.shape
    lk = k.shape[1]
    d = c // heads
    q = q.reshape(n, lq, heads, d).transpose(1, 2)
    k = k.reshape(n, lk, heads, d).transpose(1, 2)
    v = v.reshape(n, lk, heads, d).transpose(1, 2)
    a = torch.softmax((q @ k.transpose(-2, -1)) * d ** -0.5, dim=-1)
    return (a @ v).transpose(1, 2).reshape(n, lq, c)


class Mlp(nn.Module):
    """fc1 - GELU (erf) - fc2. Keys: fc1, fc2."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


# ------------------------------------------------------------------------------------------------------------------
# VAE (E, D): TAESD-like

class VaeBlock(nn.Module):
    """relu(conv2(relu(conv1(x))) + x), same channels in and out. Keys: conv1, conv2."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = conv3(c, c)
        self.conv2 = conv3(c, c)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))) + x)


class VaeEncoderStage(nn.Module):
    """down: stride-2 conv cin -> cout (no activation, as TAESD), then `blocks` VaeBlocks. Keys: down, blocks.{j}."""

    def __init__(self, cin, cout, blocks):
        super().__init__()
        self.down = conv3(cin, cout, stride=2)
        self.blocks = nn.ModuleList([VaeBlock(cout) for _ in range(blocks)])

    def forward(self, x):
        x = self.down(x)
        for b in self.blocks:
            x = b(x)
        return x


class VaeEncoder(nn.Module):
    """E: (N, 3, H, W) in [0,1] -> z (N, 4, H/8, W/8). Keys: stages.{i}.*, conv_out."""

    def __init__(self, cfg: VaeConfig):
        super().__init__()
        w = (3,) + tuple(cfg.enc_widths)
        self.stages = nn.ModuleList([VaeEncoderStage(w[i], w[i + 1], cfg.blocks) for i in range(len(cfg.enc_widths))])
        self.conv_out = conv3(w[-1], cfg.latent)

    def forward(self, x):
        for s in self.stages:
            x = s(x)
        return self.conv_out(x)


class VaeDecoderStage(nn.Module):
    """`blocks` VaeBlocks, then nearest x2 and `up` conv cin -> cout. Keys: blocks.{j}, up."""

    def __init__(self, cin, cout, blocks):
        super().__init__()
        self.blocks = nn.ModuleList([VaeBlock(cin) for _ in range(blocks)])
        self.up = conv3(cin, cout)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.up(F.interpolate(x, scale_factor=2, mode="nearest"))


class VaeDecoder(nn.Module):
    """D: z (N, 4, H/8, W/8) -> (N, 3, H, W). tanh(z/3)*3 clamp, conv_in, ReLU, stages, conv_out.
    Keys: conv_in, stages.{i}.*, conv_out."""

    def __init__(self, cfg: VaeConfig):
        super().__init__()
        d = cfg.dec_widths
        self.conv_in = conv3(cfg.latent, d[0])
        self.stages = nn.ModuleList([VaeDecoderStage(d[i], d[i + 1], cfg.blocks) for i in range(len(d) - 1)])
        self.conv_out = conv3(d[-1], 3)

    def forward(self, z):
        x = F.relu(self.conv_in(torch.tanh(z / 3) * 3))
        for s in self.stages:
            x = s(x)
        return self.conv_out(x)


# ------------------------------------------------------------------------------------------------------------------
# Latent transparency offset encoder E_a (LayerDiffuse LatentTransparencyOffsetEncoder at our widths)

class OffsetEncoder(nn.Module):
    """E_a: (N, 4, H, W) = [alpha, padded rgb] in [0,1] -> offset (N, 4, H/8, W/8). Nine 3x3 convs, SiLU after all
    but the last, stride 2 at convs 2, 4, 6; the last is zero-initialised. Keys: blocks.{0,2,...,16}."""

    def __init__(self, cfg: OffsetConfig):
        super().__init__()
        w = cfg.widths
        layers = [conv3(4, w[0]), nn.SiLU(), conv3(w[0], w[0]), nn.SiLU()]
        for i in range(1, len(w)):
            layers += [conv3(w[i - 1], w[i], stride=2), nn.SiLU(), conv3(w[i], w[i]), nn.SiLU()]
        last = conv3(w[-1], cfg.latent)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.blocks = nn.Sequential(*layers, last)

    def forward(self, x):
        return self.blocks(x)


# ------------------------------------------------------------------------------------------------------------------
# Transparent decoder D_T (UNet1024 structure)

class DownBlock(nn.Module):
    """resnets (with an attention after each when attn), then a stride-2 conv downsampler unless last.
    Keys: resnets.{j}, attentions.{j}, downsamplers.0.conv."""

    def __init__(self, cin, cout, cfg: DecoderConfig, attn, down):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(cin if j == 0 else cout, cout, cfg.groups)
                                      for j in range(cfg.layers)])
        self.attentions = nn.ModuleList([SpatialAttention(cout, cfg.groups, cfg.head_dim)
                                         for _ in range(cfg.layers)]) if attn else None
        self.downsamplers = nn.ModuleList([Downsample(cout)]) if down else None

    def forward(self, x, skips):
        for j, r in enumerate(self.resnets):
            x = r(x)
            if self.attentions is not None:
                x = self.attentions[j](x)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x


class Downsample(nn.Module):
    """Key: conv (3x3, stride 2, pad 1)."""

    def __init__(self, c):
        super().__init__()
        self.conv = conv3(c, c, stride=2)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    """nearest x2, then conv 3x3. Key: conv."""

    def __init__(self, c):
        super().__init__()
        self.conv = conv3(c, c)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UpBlock(nn.Module):
    """layers + 1 resnets, each on concat[hidden, popped skip]; attention after each when attn; upsampler unless
    last. Keys: resnets.{j}, attentions.{j}, upsamplers.0.conv."""

    def __init__(self, cin, skip_ch, cout, cfg: DecoderConfig, attn, up):
        super().__init__()
        self.resnets = nn.ModuleList()
        c = cin
        for s in skip_ch:
            self.resnets.append(ResnetBlock(c + s, cout, cfg.groups))
            c = cout
        self.attentions = nn.ModuleList([SpatialAttention(cout, cfg.groups, cfg.head_dim)
                                         for _ in skip_ch]) if attn else None
        self.upsamplers = nn.ModuleList([Upsample(cout)]) if up else None

    def forward(self, x, skips):
        for j, r in enumerate(self.resnets):
            x = r(torch.cat([x, skips.pop()], dim=1))
            if self.attentions is not None:
                x = self.attentions[j](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    """resnet, attention, resnet at the lowest resolution. Keys: resnets.{0,1}, attentions.0."""

    def __init__(self, c, cfg: DecoderConfig):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(c, c, cfg.groups), ResnetBlock(c, c, cfg.groups)])
        self.attentions = nn.ModuleList([SpatialAttention(c, cfg.groups, cfg.head_dim)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class TransparentDecoder(nn.Module):
    """D_T: rgb (N, 3, H, W) in [0,1] and latent (N, 4, H/8, W/8) -> (N, 4, H, W) = [alpha, fg r, g, b], each
    through a sigmoid. H, W multiples of 2^(levels-1). The latent enters through latent_conv_in (1x1, zero-init)
    added to the running hidden state before down block `latent_level` (skips taken earlier do not get it).
    Keys: conv_in, latent_conv_in, down_blocks.{i}.*, mid_block.*, up_blocks.{i}.*, conv_norm_out, conv_out."""

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        n = len(w)
        self.conv_in = conv3(3, w[0])
        self.latent_conv_in = nn.Conv2d(cfg.latent, w[cfg.latent_level - 1], 1)
        nn.init.zeros_(self.latent_conv_in.weight)
        nn.init.zeros_(self.latent_conv_in.bias)
        skip_ch = [w[0]]
        self.down_blocks = nn.ModuleList()
        for i in range(n):
            cin = w[i - 1] if i > 0 else w[0]
            self.down_blocks.append(DownBlock(cin, w[i], cfg, attn=i >= n - cfg.attn_levels, down=i < n - 1))
            skip_ch += [w[i]] * cfg.layers + ([w[i]] if i < n - 1 else [])
        self.mid_block = MidBlock(w[-1], cfg)
        self.up_blocks = nn.ModuleList()
        c = w[-1]
        for i in range(n):
            cout = w[n - 1 - i]
            mine = [skip_ch.pop() for _ in range(cfg.layers + 1)]
            self.up_blocks.append(UpBlock(c, mine, cout, cfg, attn=i < cfg.attn_levels, up=i < n - 1))
            c = cout
        self.conv_norm_out = nn.GroupNorm(cfg.groups, w[0], eps=1e-5)
        self.conv_out = conv3(w[0], 4)

    def forward(self, rgb, latent):
        x = self.conv_in(rgb)
        skips = [x]
        for i, b in enumerate(self.down_blocks):
            if i == self.cfg.latent_level:
                x = x + self.latent_conv_in(latent)
            x = b(x, skips)
        x = self.mid_block(x)
        for b in self.up_blocks:
            x = b(x, skips)
        return torch.sigmoid(self.conv_out(F.silu(self.conv_norm_out(x))))


# ------------------------------------------------------------------------------------------------------------------
# Layout student: plain ViT + neck (EfficientSAM style), and the SAMI decoder used to distil it

class VitAttention(nn.Module):
    """Keys: qkv, proj."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.proj(mha(q, k, v, self.heads))


class VitBlock(nn.Module):
    """Pre-norm block: x + attn(norm1(x)); x + mlp(norm2(x)). LayerNorm eps 1e-6. Keys: norm1, attn, norm2, mlp."""

    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = VitAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, dim * mlp_ratio)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    """Key: proj (conv patch x patch, stride patch)."""

    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x)


class LayoutEncoder(nn.Module):
    """Student: rgb (N, 3, S, S) in [0,1], S = img_size -> f (N, out_dim, S/p, S/p). tokens = patch_embed + pos_embed,
    pre-norm ViT blocks with global attention, neck = conv1x1 (no bias), LayerNorm2d, conv3x3 (no bias), LayerNorm2d.
    Keys: patch_embed.proj, pos_embed (1, g*g, dim), blocks.{i}.*, neck.{0,1,2,3}."""

    def __init__(self, cfg: StudentConfig):
        super().__init__()
        self.cfg = cfg
        self.grid = cfg.img_size // cfg.patch
        self.patch_embed = PatchEmbed(cfg.patch, cfg.dim)
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid ** 2, cfg.dim) * 0.02)
        self.blocks = nn.ModuleList([VitBlock(cfg.dim, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.depth)])
        self.neck = nn.Sequential(nn.Conv2d(cfg.dim, cfg.out_dim, 1, bias=False), LayerNorm2d(cfg.out_dim),
                                  nn.Conv2d(cfg.out_dim, cfg.out_dim, 3, padding=1, bias=False),
                                  LayerNorm2d(cfg.out_dim))

    def tokens(self, x):
        """(N, 3, S, S) -> tokens (N, g*g, dim) with position."""
        assert x.shape[2] == x.shape[3] == self.cfg.img_size
        return self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed

    def encode(self, t):
        for b in self.blocks:
            t = b(t)
        return t

    def to_map(self, t):
        """tokens (N, g*g, dim) -> neck feature map (N, out_dim, g, g)."""
        return self.neck(t.transpose(1, 2).reshape(t.shape[0], -1, self.grid, self.grid))

    def forward(self, x):
        return self.to_map(self.encode(self.tokens(x)))


class CrossAttention(nn.Module):
    """SAM's Attention with separate projections (the SAMI decoder). Keys: q_proj, k_proj, v_proj, out_proj."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, q, kv):
        return self.out_proj(mha(self.q_proj(q), self.k_proj(kv), self.v_proj(kv), self.heads))


class CrossBlock(nn.Module):
    """SAMI decoder block: m + attn(norm_q(m), norm_kv([visible, m])); m + mlp(norm2(m)).
    Keys: norm_q, norm_kv, attn.{q,k,v,out}_proj, norm2, mlp."""

    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim, eps=1e-6)
        self.norm_kv = nn.LayerNorm(dim, eps=1e-6)
        self.attn = CrossAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, dim * mlp_ratio)

    def forward(self, m, visible):
        m = m + self.attn(self.norm_q(m), self.norm_kv(torch.cat([visible, m], dim=1)))
        return m + self.mlp(self.norm2(m))


class SamiDecoder(nn.Module):
    """Masked image modelling head for distillation: the student encodes the visible tokens; masked positions start
    as mask_token + pos_embed, cross-attend to [visible, masked] through `depth` blocks; both are put back in token
    order, through the student's neck, then `proj` (1x1 conv, a linear projection) to the teacher's dimension.
    Keys: mask_token (1, 1, dim), blocks.{i}.*, proj."""

    def __init__(self, student: StudentConfig, cfg: SamiConfig):
        super().__init__()
        self.mask_token = nn.Parameter(torch.randn(1, 1, student.dim) * 0.02)
        self.blocks = nn.ModuleList([CrossBlock(student.dim, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.depth)])
        self.proj = nn.Conv2d(student.out_dim, cfg.teacher_dim, 1)

    def forward(self, student: LayoutEncoder, x, ids_keep, ids_mask):
        """x (N, 3, S, S); ids_keep (N, Lk), ids_mask (N, Lm) int64 token indices -> (N, teacher_dim, gh, gw)."""
        t = student.tokens(x)
        n, L, dim = t.shape
        vis = student.encode(torch.gather(t, 1, ids_keep[..., None].expand(-1, -1, dim)))
        pos = student.pos_embed.expand(n, -1, -1)
        m = self.mask_token + torch.gather(pos, 1, ids_mask[..., None].expand(-1, -1, dim))
        for b in self.blocks:
            m = b(m, vis)
        full = t.new_zeros(n, L, dim)
        full = full.scatter(1, ids_keep[..., None].expand(-1, -1, dim), vis)
        full = full.scatter(1, ids_mask[..., None].expand(-1, -1, dim), m)
        return self.proj(student.to_map(full))


def random_masking(n, L, ratio, generator=None):
    """MAE masking: per sample a random permutation; the first int(L * (1 - ratio)) (at least 1) are kept, as
    nn_mask_keep_count. Returns (ids_keep, ids_mask), each sorted ascending."""
    keep = min(max(int(L * (1 - ratio)), 1), L)
    perm = torch.argsort(torch.rand(n, L, generator=generator), dim=1)
    return perm[:, :keep].sort(1).values, perm[:, keep:].sort(1).values


# ------------------------------------------------------------------------------------------------------------------
# Layout teacher: trained on part masks; its 1/16 feature map is the distillation target

class FeatureTeacher(nn.Module):
    """The teacher interface: features(rgb (N, 3, h, w) in [0,1]) -> (N, feature_dim, h/16, w/16). A SAM image
    encoder plugs in by subclassing this (resize/normalise as SAM wants, resize its map to h/16 x w/16)."""
    feature_dim: int

    def features(self, x):
        raise NotImplementedError


class TeacherStage(nn.Module):
    """down (stride-2 conv) then resnets. Keys: down, resnets.{j}."""

    def __init__(self, cin, cout, n, groups):
        super().__init__()
        self.down = conv3(cin, cout, stride=2)
        self.resnets = nn.ModuleList([ResnetBlock(cout, cout, groups) for _ in range(n)])

    def forward(self, x):
        x = self.down(x)
        for r in self.resnets:
            x = r(x)
        return x


class TeacherUp(nn.Module):
    """nearest x2, up conv cin -> cout, concat the encoder skip (cout), resnet 2*cout -> cout. Keys: up, resnet."""

    def __init__(self, cin, cout, groups):
        super().__init__()
        self.up = conv3(cin, cout)
        self.resnet = ResnetBlock(2 * cout, cout, groups)

    def forward(self, x, skip):
        x = self.up(F.interpolate(x, scale_factor=2, mode="nearest"))
        return self.resnet(torch.cat([x, skip], dim=1))


class LayoutTeacher(FeatureTeacher):
    """rgb (N, 3, h, w), h, w multiples of 16 -> features (N, widths[-1], h/16, w/16) after feat_norm, and head
    logits (N, heads, h/2, w/2): [object, boundary, affinity per offset]. Keys: enc.{i}.*, feat_norm, dec.{i}.*,
    head_norm, head."""

    def __init__(self, cfg: TeacherConfig):
        super().__init__()
        w = (3,) + tuple(cfg.widths)
        self.feature_dim = cfg.widths[-1]
        self.enc = nn.ModuleList([TeacherStage(w[i], w[i + 1], cfg.res_per_stage, cfg.groups)
                                  for i in range(len(cfg.widths))])
        self.feat_norm = LayerNorm2d(cfg.widths[-1])
        self.dec = nn.ModuleList([TeacherUp(w[i + 1], w[i], cfg.groups) for i in range(len(cfg.widths) - 1, 0, -1)])
        self.head_norm = nn.GroupNorm(cfg.groups, cfg.widths[0])
        self.head = conv3(cfg.widths[0], cfg.heads)

    def run(self, x):
        skips = []
        for s in self.enc:
            x = s(x)
            skips.append(x)
        feat = self.feat_norm(skips.pop())
        x = feat
        for u in self.dec:
            x = u(x, skips.pop())
        return feat, self.head(F.silu(self.head_norm(x)))

    def features(self, x):
        return self.run(x)[0]

    def forward(self, x):
        return self.run(x)


def part_targets(part_ids, offsets):
    """part_ids (N, h, w) int64 at the head's grid, 0 = background. Returns targets and weights (N, 2 + K, h, w):
    object = id > 0; boundary = a 4-neighbour (inside the image) has another id; affinity (dy, dx) = same nonzero id
    at p and p + (dy, dx), weighted where p + d is inside and either pixel is object."""
    ids = part_ids
    n, h, w = ids.shape
    obj = (ids > 0).float()
    bnd = torch.zeros_like(obj)
    for dy, dx in ((0, 1), (1, 0)):
        a, b = ids[:, :h - dy, :w - dx], ids[:, dy:, dx:]
        d = (a != b).float()
        bnd[:, :h - dy, :w - dx] = torch.maximum(bnd[:, :h - dy, :w - dx], d)
        bnd[:, dy:, dx:] = torch.maximum(bnd[:, dy:, dx:], d)
    tg, wt = [obj, bnd], [torch.ones_like(obj), torch.ones_like(obj)]
    for dy, dx in offsets:
        t, m = torch.zeros_like(obj), torch.zeros_like(obj)
        a, b = ids[:, :h - dy, :w - dx], ids[:, dy:, dx:]
        t[:, :h - dy, :w - dx] = ((a == b) & (a > 0)).float()
        m[:, :h - dy, :w - dx] = ((a > 0) | (b > 0)).float()
        tg.append(t)
        wt.append(m)
    return torch.stack(tg, 1), torch.stack(wt, 1)


# ------------------------------------------------------------------------------------------------------------------
# Temporal adapter and the full ILDiff matting path

class TemporalLayer(nn.Module):
    """Conv3d 3x3x3 (pad 1), GroupNorm over (C/G, T, h, w), ReLU. Keys: conv, norm."""

    def __init__(self, c, groups):
        super().__init__()
        self.conv = nn.Conv3d(c, c, 3, padding=1)
        self.norm = nn.GroupNorm(groups, c, eps=1e-5)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x)))


class TemporalAdapter(nn.Module):
    """f (N, T, C, h, w) -> l (N, T, 4, H8, W8): depth temporal layers over (T, h, w), then per frame `out` (3x3
    conv C -> 4, zero-initialised) and adaptive average pooling to (H8, W8). Keys: layers.{i}.conv/norm, out."""

    def __init__(self, cfg: TemporalConfig):
        super().__init__()
        self.layers = nn.ModuleList([TemporalLayer(cfg.channels, cfg.groups) for _ in range(cfg.depth)])
        self.out = conv3(cfg.channels, cfg.latent)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, f, latent_hw):
        n, t, c, h, w = f.shape
        x = f.permute(0, 2, 1, 3, 4)              # (N, C, T, h, w)
        for layer in self.layers:
            x = layer(x)
        x = x.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)
        x = F.adaptive_avg_pool2d(self.out(x), latent_hw)
        return x.reshape(n, t, -1, latent_hw[0], latent_hw[1])


class ILDiff(nn.Module):
    """The matting path: rgb clip (N, T, 3, H, W) in [0,1], H, W multiples of cfg.multiple ->
    alpha (N, T, 1, H, W), fg (N, T, 3, H, W) straight RGB. z = E(rgb); f = student(area-resize(rgb, S x S)), S the
    student's img_size (adaptive average pooling: a 2x2 mean for 512 -> 256, the identity for 256);
    l = temporal(f); (alpha, fg) = D_T(rgb, z + l). Keys: vae_encoder.*, student.*, temporal.*, decoder.*."""

    def __init__(self, cfg: ILDiffConfig):
        super().__init__()
        self.cfg = cfg
        self.vae_encoder = VaeEncoder(cfg.vae)
        self.student = LayoutEncoder(cfg.student)
        self.temporal = TemporalAdapter(cfg.temporal)
        self.decoder = TransparentDecoder(cfg.decoder)

    def forward(self, rgb, return_latent=False):
        n, t, _, h, w = rgb.shape
        x = rgb.reshape(n * t, 3, h, w)
        z = self.vae_encoder(x)
        s = self.cfg.student.img_size
        xs = F.adaptive_avg_pool2d(x, (s, s)) if (h, w) != (s, s) else x
        f = self.student(xs)
        l = self.temporal(f.reshape(n, t, *f.shape[1:]), z.shape[2:]).reshape(z.shape)
        zl = z + l
        o = self.decoder(x, zl).reshape(n, t, 4, h, w)
        if return_latent:
            return o[:, :, :1], o[:, :, 1:], zl
        return o[:, :, :1], o[:, :, 1:]


# ------------------------------------------------------------------------------------------------------------------
# Losses (means over all elements unless stated)

def alpha_loss(alpha, alpha_gt):
    """L_alpha = mean |alpha - alpha_gt|."""
    return (alpha - alpha_gt).abs().mean()


def rgb_loss(fg, fg_gt, alpha_gt):
    """L_rgb = sum |fg - fg_gt| over pixels with alpha_gt > 0 (all 3 channels) / (3 * that count, at least 1).
    fg (..., 3, H, W), alpha_gt (..., 1, H, W)."""
    m = (alpha_gt > 0).float().expand_as(fg)
    return ((fg - fg_gt).abs() * m).sum() / m.sum().clamp(min=1)


def harmless_loss(decoded, target):
    """Harmlessness: mean (D(z + offset) - target)^2; target = the image E saw."""
    return (decoded - target).pow(2).mean()


def distill_loss(projected, teacher):
    """SAMI: mean (proj(student) - teacher)^2 over every position and channel."""
    return (projected - teacher).pow(2).mean()


def teacher_loss(logits, targets, weights):
    """Weighted BCE with logits: sum(w * bce) / max(sum(w), 1)."""
    b = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (b * weights).sum() / weights.sum().clamp(min=1)


def coherence_loss(alpha, alpha_gt):
    """RVM temporal coherence: mean ((a_t - a_{t-1}) - (g_t - g_{t-1}))^2 over t >= 1; alpha (N, T, 1, H, W)."""
    return ((alpha[:, 1:] - alpha[:, :-1]) - (alpha_gt[:, 1:] - alpha_gt[:, :-1])).pow(2).mean()


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def init_nonzero(module, scale=0.1, generator=None):
    """Replaces every zero-initialised weight by small random values (parity tests need non-zero gradients)."""
    with torch.no_grad():
        for p in module.parameters():
            if p.abs().max() == 0:
                p.copy_(torch.randn(p.shape, generator=generator) * scale)
