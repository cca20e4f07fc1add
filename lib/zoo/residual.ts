/**
 * Networks with residual connections and batch-norm: ResNet-50 v1 and
 * MobileNetV2, in torchvision's layout (convolutions without bias, each
 * followed by BatchNormalization, as the exported ONNX files have them).
 */
import { ZooBuilder, ZooOptions } from './builder';

/** Centre of the scale of the batch-norm that closes a residual branch (see builder.ts). */
const RESIDUAL_GAMMA = 0.25;

function convBn(z: ZooBuilder, name: string, x: string, cin: number, cout: number, kernel: number, stride: number, gamma = 1, opts: { group?: number; init?: 'he' | 'lecun' } = {}): string {
  const c = z.conv(name, x, cin, cout, { kernel, stride, pad: (kernel - 1) / 2, bias: false, ...opts });
  return z.batchNorm(`${name}_bn`, c, cout, gamma);
}

function bottleneck(z: ZooBuilder, name: string, x: string, cin: number, width: number, stride: number): string {
  let y = z.relu(convBn(z, `${name}_conv1`, x, cin, width, 1, 1));
  y = z.relu(convBn(z, `${name}_conv2`, y, width, width, 3, stride)); // v1.5 / torchvision: the stride is on the 3×3
  y = convBn(z, `${name}_conv3`, y, width, width * 4, 1, 1, RESIDUAL_GAMMA);
  const shortcut = stride !== 1 || cin !== width * 4 ? convBn(z, `${name}_downsample`, x, cin, width * 4, 1, stride) : x;
  return z.relu(z.add(y, shortcut));
}

/**
 * ResNet-50 (torchvision layout: bottlenecks [3, 4, 6, 3], the stride on the
 * 3×3 conv, a 1×1 conv + batch-norm shortcut where the shape changes).
 * 25,557,032 parameters (plus batch-norm statistics).
 * @returns ONNX bytes: input `data` [1,3,224,224], output `prob` [1,1000] (or `logits`)
 */
export function resnet50(options?: ZooOptions): Uint8Array {
  const z = new ZooBuilder('zoo.onnx.resnet50', options);
  let x = z.relu(convBn(z, 'conv1', z.input(), 3, 64, 7, 2));
  x = z.maxPool(x, { kernel: 3, stride: 2, pad: 1 });
  let cin = 64;
  [3, 4, 6, 3].forEach((blocks, s) => {
    const width = 64 << s;
    for (let b = 0; b < blocks; b++) {
      x = bottleneck(z, `layer${s + 1}_${b}`, x, cin, width, b === 0 && s > 0 ? 2 : 1);
      cin = width * 4;
    }
  });
  x = z.flatten(z.globalAvgPool(x));
  return z.finish(z.dense('fc', x, 2048, 1000, 'lecun'));
}

/** [expansion t, channels c, repeats n, first stride s] of MobileNetV2's bottleneck stages. */
const MOBILENET_V2 = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
] as const;

/**
 * MobileNetV2 (width 1.0, torchvision layout): inverted residuals with depthwise
 * 3×3 convs and ReLU6 (Clip 0..6), linear bottlenecks, a 1280-channel head.
 * 3,504,872 parameters (plus batch-norm statistics).
 * @returns ONNX bytes: input `data` [1,3,224,224], output `prob` [1,1000] (or `logits`)
 */
export function mobilenetV2(options?: ZooOptions): Uint8Array {
  const z = new ZooBuilder('zoo.onnx.mobilenetV2', options);
  let x = z.relu6(convBn(z, 'features0', z.input(), 3, 32, 3, 2));
  let cin = 32;
  let block = 1;
  for (const [t, c, n, s] of MOBILENET_V2) {
    for (let i = 0; i < n; i++, block++) {
      const stride = i === 0 ? s : 1;
      const hidden = cin * t;
      const p = `block${block}`;
      let y = t === 1 ? x : z.relu6(convBn(z, `${p}_expand`, x, cin, hidden, 1, 1));
      y = z.relu6(convBn(z, `${p}_dw`, y, hidden, hidden, 3, stride, 1, { group: hidden }));
      const residual = stride === 1 && cin === c;
      y = convBn(z, `${p}_project`, y, hidden, c, 1, 1, residual ? RESIDUAL_GAMMA : 1, { init: 'lecun' });
      x = residual ? z.add(y, x) : y;
      cin = c;
    }
  }
  x = z.relu6(convBn(z, 'features18', x, cin, 1280, 1, 1));
  x = z.dropout(z.flatten(z.globalAvgPool(x)), 0.2);
  return z.finish(z.dense('classifier', x, 1280, 1000, 'lecun'));
}
