/**
 * The plain stacks: AlexNet (BVLC, as in the ONNX model zoo) and VGG-16/19.
 */
import { ZooBuilder, ZooOptions } from './builder';

/**
 * BVLC AlexNet (Caffe layout, as the ONNX model zoo's bvlc_alexnet): grouped
 * conv2/4/5, LRN after conv1 and conv2, 224×224 input with the last max-pool
 * padded at the end ([0,0,1,1]) so fc6 sees 256×6×6. 60,965,224 parameters.
 * @returns ONNX bytes (opset 13): input `data` [1,3,224,224], output `prob` [1,1000] (softmax) or `logits`
 */
export function alexnet(options?: ZooOptions): Uint8Array {
  const z = new ZooBuilder('zoo.onnx.alexnet', options);
  let x = z.input();
  x = z.lrn(z.relu(z.conv('conv1', x, 3, 96, { kernel: 11, stride: 4 })));
  x = z.maxPool(x, { kernel: 3, stride: 2 });
  x = z.lrn(z.relu(z.conv('conv2', x, 96, 256, { kernel: 5, pad: 2, group: 2 })));
  x = z.maxPool(x, { kernel: 3, stride: 2 });
  x = z.relu(z.conv('conv3', x, 256, 384, { kernel: 3, pad: 1 }));
  x = z.relu(z.conv('conv4', x, 384, 384, { kernel: 3, pad: 1, group: 2 }));
  x = z.relu(z.conv('conv5', x, 384, 256, { kernel: 3, pad: 1, group: 2 }));
  x = z.flatten(z.maxPool(x, { kernel: 3, stride: 2, pad: [0, 0, 1, 1] }));
  x = z.dropout(z.relu(z.dense('fc6', x, 256 * 6 * 6, 4096, 'he')), 0.5);
  x = z.dropout(z.relu(z.dense('fc7', x, 4096, 4096, 'he')), 0.5);
  return z.finish(z.dense('fc8', x, 4096, 1000, 'lecun'));
}

/** Convolutions per stage (3×3, pad 1, ReLU; a 2×2 max-pool after each stage). */
const VGG_STAGES = { vgg16: [2, 2, 3, 3, 3], vgg19: [2, 2, 4, 4, 4] } as const;
const VGG_WIDTHS = [64, 128, 256, 512, 512];

function vgg(name: 'vgg16' | 'vgg19', options?: ZooOptions): Uint8Array {
  const z = new ZooBuilder(`zoo.onnx.${name}`, options);
  let x = z.input();
  let cin = 3;
  VGG_STAGES[name].forEach((convs, s) => {
    for (let i = 0; i < convs; i++) {
      x = z.relu(z.conv(`conv${s + 1}_${i + 1}`, x, cin, VGG_WIDTHS[s], { kernel: 3, pad: 1 }));
      cin = VGG_WIDTHS[s];
    }
    x = z.maxPool(x, { kernel: 2, stride: 2 });
  });
  x = z.flatten(x);
  x = z.dropout(z.relu(z.dense('fc6', x, 512 * 7 * 7, 4096, 'he')), 0.5);
  x = z.dropout(z.relu(z.dense('fc7', x, 4096, 4096, 'he')), 0.5);
  return z.finish(z.dense('fc8', x, 4096, 1000, 'lecun'));
}

/**
 * VGG-16 (configuration D): 13 conv + 3 fully connected layers, 138,357,544 parameters.
 * @returns ONNX bytes: input `data` [1,3,224,224], output `prob` [1,1000] (or `logits`)
 */
export function vgg16(options?: ZooOptions): Uint8Array {
  return vgg('vgg16', options);
}

/**
 * VGG-19 (configuration E): 16 conv + 3 fully connected layers, 143,667,240 parameters.
 * @returns ONNX bytes: input `data` [1,3,224,224], output `prob` [1,1000] (or `logits`)
 */
export function vgg19(options?: ZooOptions): Uint8Array {
  return vgg('vgg19', options);
}
