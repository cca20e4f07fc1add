/**
 * Inception networks: GoogLeNet (Inception v1, BVLC/Caffe) and SqueezeNet 1.1,
 * both made of modules whose branches are concatenated along channels.
 */
import { ZooBuilder, ZooOptions } from './builder';

/** [1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool proj] of each inception module. */
const INCEPTION: Record<string, readonly number[]> = {
  '3a': [64, 96, 128, 16, 32, 32],
  '3b': [128, 128, 192, 32, 96, 64],
  '4a': [192, 96, 208, 16, 48, 64],
  '4b': [160, 112, 224, 24, 64, 64],
  '4c': [128, 128, 256, 24, 64, 64],
  '4d': [112, 144, 288, 32, 64, 64],
  '4e': [256, 160, 320, 32, 128, 128],
  '5a': [256, 160, 320, 32, 128, 128],
  '5b': [384, 192, 384, 48, 128, 128],
};

function inception(z: ZooBuilder, name: string, x: string, cin: number): [string, number] {
  const [c1, r3, c3, r5, c5, pp] = INCEPTION[name];
  const p = `inception_${name}`;
  const b1 = z.relu(z.conv(`${p}/1x1`, x, cin, c1, { kernel: 1 }));
  const b3 = z.relu(z.conv(`${p}/3x3`, z.relu(z.conv(`${p}/3x3_reduce`, x, cin, r3, { kernel: 1 })), r3, c3, { kernel: 3, pad: 1 }));
  const b5 = z.relu(z.conv(`${p}/5x5`, z.relu(z.conv(`${p}/5x5_reduce`, x, cin, r5, { kernel: 1 })), r5, c5, { kernel: 5, pad: 2 }));
  const bp = z.relu(z.conv(`${p}/pool_proj`, z.maxPool(x, { kernel: 3, stride: 1, pad: 1 }), cin, pp, { kernel: 1 }));
  return [z.concat([b1, b3, b5, bp]), c1 + c3 + c5 + pp];
}

/**
 * GoogLeNet / Inception v1 as BVLC's Caffe model (the ONNX model zoo's
 * bvlc_googlenet): LRN after the stem's pools, 5×5 branches, Caffe's ceil-mode
 * max-pools, no auxiliary classifiers. 6,998,552 parameters.
 * @returns ONNX bytes: input `data` [1,3,224,224], output `prob` [1,1000] (or `logits`)
 */
export function googlenet(options?: ZooOptions): Uint8Array {
  const z = new ZooBuilder('zoo.onnx.googlenet', options);
  let x = z.relu(z.conv('conv1/7x7_s2', z.input(), 3, 64, { kernel: 7, stride: 2, pad: 3 }));
  x = z.lrn(z.maxPool(x, { kernel: 3, stride: 2, ceil: true }));
  x = z.relu(z.conv('conv2/3x3_reduce', x, 64, 64, { kernel: 1 }));
  x = z.relu(z.conv('conv2/3x3', x, 64, 192, { kernel: 3, pad: 1 }));
  x = z.maxPool(z.lrn(x), { kernel: 3, stride: 2, ceil: true });
  let c = 192;
  for (const stage of [['3a', '3b'], ['4a', '4b', '4c', '4d', '4e'], ['5a', '5b']]) {
    if (stage[0] !== '3a') x = z.maxPool(x, { kernel: 3, stride: 2, ceil: true });
    for (const name of stage) [x, c] = inception(z, name, x, c);
  }
  x = z.flatten(z.dropout(z.avgPool(x, { kernel: 7, stride: 1 }), 0.4));
  return z.finish(z.dense('loss3/classifier', x, c, 1000, 'lecun'));
}

function fire(z: ZooBuilder, n: number, x: string, cin: number, squeeze: number, expand: number): string {
  const p = `fire${n}`;
  const s = z.relu(z.conv(`${p}/squeeze1x1`, x, cin, squeeze, { kernel: 1 }));
  const e1 = z.relu(z.conv(`${p}/expand1x1`, s, squeeze, expand, { kernel: 1 }));
  const e3 = z.relu(z.conv(`${p}/expand3x3`, s, squeeze, expand, { kernel: 3, pad: 1 }));
  return z.concat([e1, e3]);
}

/**
 * SqueezeNet 1.1 (fewer FLOPs than 1.0 at the same accuracy; 3×3 stem of 64
 * filters, pools after fire3 and fire5): fire modules, ceil-mode max-pools,
 * a 1×1 conv classifier and a global average pool. 1,235,496 parameters.
 * @returns ONNX bytes: input `data` [1,3,224,224], output `prob` [1,1000] (or `logits`)
 */
export function squeezenet(options?: ZooOptions): Uint8Array {
  const z = new ZooBuilder('zoo.onnx.squeezenet', options);
  let x = z.relu(z.conv('conv1', z.input(), 3, 64, { kernel: 3, stride: 2 }));
  x = z.maxPool(x, { kernel: 3, stride: 2, ceil: true });
  x = fire(z, 3, fire(z, 2, x, 64, 16, 64), 128, 16, 64);
  x = z.maxPool(x, { kernel: 3, stride: 2, ceil: true });
  x = fire(z, 5, fire(z, 4, x, 128, 32, 128), 256, 32, 128);
  x = z.maxPool(x, { kernel: 3, stride: 2, ceil: true });
  x = fire(z, 7, fire(z, 6, x, 256, 48, 192), 384, 48, 192);
  x = fire(z, 9, fire(z, 8, x, 384, 64, 256), 512, 64, 256);
  x = z.relu(z.conv('conv10', z.dropout(x, 0.5), 512, 1000, { kernel: 1, init: 'lecun' }));
  return z.finish(z.flatten(z.globalAvgPool(x)));
}
