/**
 * Backward rules of the layers with weights over windows and features: conv and linear. Each
 * walks the same loops as its forward kernel, so every gradient term is a term of the forward's
 * sum read the other way; weight and bias gradients are summed in double precision.
 */
import { windowOut as windowOutSize } from '../../layers/window';
import { tensor, type Tensor } from '../tensor';
import type { ConvParams } from './conv';

export interface DenseGrads {
  dx: Tensor;
  dw: Float32Array;
  db?: Float32Array;
}

/** Conv2d's gradients for x, the weight `[Cout, Cin/G, Kh, Kw]` and the bias, from dL/dy. */
export function conv2dBackward(x: Tensor, weight: Float32Array, dy: Tensor, p: ConvParams, bias: boolean): DenseGrads {
  const [B, C, H, W] = x.shape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const G = p.groups;
  const cinG = C / G;
  const coutG = p.out / G;
  const OH = windowOutSize(H, kh, sh, ph, dh, false);
  const OW = windowOutSize(W, kw, sw, pw, dw, false);
  if (dy.shape[1] !== p.out || dy.shape[2] !== OH || dy.shape[3] !== OW) throw new Error(`conv backward: dy is [${dy.shape}], expected [${B}, ${p.out}, ${OH}, ${OW}]`);
  const dx = tensor(x.shape);
  const gw = new Float64Array(weight.length);
  const gb = new Float64Array(p.out);
  const X = x.data;
  const DY = dy.data;
  const DX = dx.data;
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < p.out; oc++) {
      const g = Math.floor(oc / coutG);
      const yBase = (b * p.out + oc) * OH * OW;
      if (bias) {
        let s = 0;
        for (let i = 0; i < OH * OW; i++) s += DY[yBase + i];
        gb[oc] += s;
      }
      for (let ci = 0; ci < cinG; ci++) {
        const xBase = (b * C + g * cinG + ci) * H * W;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const wi = ((oc * cinG + ci) * kh + i) * kw + j;
            const wv = weight[wi];
            const shift = j * dw - pw;
            const owStart = Math.max(0, Math.ceil(-shift / sw));
            const owEnd = Math.min(OW, Math.floor((W - 1 - shift) / sw) + 1);
            let acc = 0;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * sh - ph + i * dh;
              if (ih < 0 || ih >= H) continue;
              const xRow = xBase + ih * W + shift;
              const yRow = yBase + oh * OW;
              for (let ow = owStart; ow < owEnd; ow++) {
                const d = DY[yRow + ow];
                const at = xRow + ow * sw;
                acc += d * X[at];
                DX[at] += wv * d;
              }
            }
            gw[wi] += acc;
          }
        }
      }
    }
  }
  return { dx, dw: Float32Array.from(gw), db: bias ? Float32Array.from(gb) : undefined };
}

/** nn.Linear's gradients: dx = dy W, dW = dyᵀ x, db = Σ dy. */
export function linearBackward(x: Tensor, weight: Float32Array, dy: Tensor, out: number, bias: boolean): DenseGrads {
  const [B, N] = x.shape;
  const dx = tensor(x.shape);
  const gw = new Float64Array(out * N);
  const gb = new Float64Array(out);
  for (let b = 0; b < B; b++) {
    const xr = b * N;
    for (let o = 0; o < out; o++) {
      const d = dy.data[b * out + o];
      if (d === 0) continue;
      gb[o] += d;
      const wr = o * N;
      for (let i = 0; i < N; i++) {
        gw[wr + i] += d * x.data[xr + i];
        dx.data[xr + i] += d * weight[wr + i];
      }
    }
  }
  return { dx, dw: Float32Array.from(gw), db: bias ? Float32Array.from(gb) : undefined };
}
