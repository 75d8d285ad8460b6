// The report page's own classifier: the model's layers, embedded in this page as data, applied
// in the browser to the photos a person chooses or drops. It sends nothing anywhere, and the
// page's Content-Security-Policy forbids any request (default-src 'none').
//
// Per photo, as scripts/classify.py does: decode upright (EXIF orientation), center-crop to a
// square, resize to the model's size on a white background, flatten in the training order (row,
// column, channel), divide by 255; then, in float64, each hidden layer a = relu(W a + b) and the
// last z = W a + b, p = sigmoid(z), as params.scores. One neuron is the one-layer case, W = w.T.
// A convolutional network (nn/cnn.py) first takes its blocks: each convolution of stride 1 over
// the image padded with zeros as cnn.same_padded pads it (the amounts embedded), + b, ReLU, then
// a max-pool whose stride is its window; the last block's output is flattened row, column,
// channel, and its one dense unit gives z. With the run's calibration, p = sigmoid(z / T) and the
// sentence of its confidence band.
//
// Beside each photo, the pixels that decided it, as evaluation.explain computes them: each
// input's push on z measured from the mean training image x̄ (embedded with the calibration),
// integrated gradients (x - x̄) * mean of dz/dx along the line from x̄ to x, by the trapezoid on
// K steps, K doubled from 1 until the map's sum agrees with z - z(x̄) within the tolerance at
// two step counts in a row, or K reaches the cap. For one neuron dz/dx = w everywhere and the
// map is exactly w (x - x̄); a CNN's dz/dx is its backward pass (cnn.backward, to the input).
// The map drawn sums the three colours of each pixel. Without a calibration there is no x̄ and
// no map: a map from a black image (input x gradient) would make a white background read as
// evidence, the very thing the mean image corrects.
"use strict";

(function () {
  const model = JSON.parse(document.getElementById("model").textContent);
  const size = model.image_shape[0]; // square images, 3 channels
  const layers = model.layers.map((layer) => (layer.kind === "conv" ? convolution(layer) : {
    // a dense layer: W (n_out, n_in) row by row, b (n_out,)
    W: float64FromBase64(layer.W_base64, layer.shape[0] * layer.shape[1]),
    rows: layer.shape[0], columns: layer.shape[1], b: Float64Array.from(layer.b),
  }));
  const convolutions = layers.filter((layer) => layer.kind === "conv"); // a CNN's, first
  const oneNeuron = layers.length === 1;
  // The run's calibration, when the report had one: p = sigmoid(z / T), the sentence of the
  // answer's confidence band, written by Python (evaluation.calibration.band_sentences), and
  // the map's x̄, tolerance and cap (evaluation.explain's).
  const calibrationNode = document.getElementById("calibration");
  const calibration = calibrationNode ? JSON.parse(calibrationNode.textContent) : null;
  const baseline = calibration && // x̄ (n_x,)
    float64FromBase64(calibration.map.mean_input_base64, size * size * 3);
  const results = document.getElementById("photo-results");

  // Little-endian float64, as NumPy's "<f8" bytes.
  function float64FromBase64(text, length) {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const values = new Float64Array(bytes.buffer);
    if (values.length !== length) throw new Error("the embedded model is damaged");
    return values;
  }

  // A convolution: W (f, f, n_C_prev, n_C) in C order, b (n_C,), the zeros padded before and
  // after the image on each side, and the max-pool window after the ReLU (1: none).
  function convolution(layer) {
    const [f, , inputs, outputs] = layer.shape;
    if (layer.stride !== 1) throw new Error("the page convolves with stride 1, as nn/cnn.py");
    return {
      kind: "conv", f, inputs, outputs, before: layer.pad[0], after: layer.pad[1],
      pool: layer.pool, W: float64FromBase64(layer.W_base64, f * f * inputs * outputs),
      b: Float64Array.from(layer.b),
    };
  }

  function base64FromFloat64(values) { // the same bytes back, for the tests to read exactly
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  }

  // As model.sigmoid: exp never sees a large positive argument.
  function sigmoid(z) {
    const e = Math.exp(-Math.abs(z));
    return z >= 0 ? 1 / (1 + e) : e / (1 + e);
  }

  // The photo at the model's size: a canvas of size x size, drawn on white (alpha composited).
  async function modelInput(file) {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const side = Math.min(bitmap.width, bitmap.height);
    const left = Math.floor((bitmap.width - side) / 2);
    const top = Math.floor((bitmap.height - side) / 2);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff";
    context.fillRect(0, 0, size, size);
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, left, top, side, side, 0, 0, size, size);
    bitmap.close();
    return canvas;
  }

  // RGBA bytes -> x (n_x,): row, column, channel, each / 255.
  function inputOf(rgba) {
    const x = new Float64Array(size * size * 3);
    for (let pixel = 0; pixel < size * size; pixel++) {
      for (let channel = 0; channel < 3; channel++) {
        x[pixel * 3 + channel] = rgba[pixel * 4 + channel] / 255;
      }
    }
    return x;
  }

  // z = W a + b for one layer: a (n_in,) -> z (n_out,).
  function linear(layer, a) {
    const z = new Float64Array(layer.rows);
    for (let i = 0; i < layer.rows; i++) {
      let sum = 0;
      const row = i * layer.columns;
      for (let j = 0; j < layer.columns; j++) sum += layer.W[row + j] * a[j];
      z[i] = sum + layer.b[i];
    }
    return z;
  }

  // The forward pass: the last layer's z, and each hidden layer's z (the ReLUs' on/off).
  function forward(x) {
    const hidden = [];
    let a = x;
    for (const layer of layers.slice(0, -1)) {
      const z = linear(layer, a);
      hidden.push(z);
      a = z.map((value) => Math.max(0, value)); // ReLU
    }
    return { z: linear(layers[layers.length - 1], a)[0], hidden };
  }

  // z of x (n_x,), the last layer's pre-activation, for any model.
  function score(x) {
    return convolutions.length ? cnnForward(x).z : forward(x).z;
  }

  // dz/dz1 (n_1,): dz = 1 brought back from the last layer to the first layer's z, through
  // each ReLU that was on (as network.input_gradient; dz/dx is then W1.T dz/dz1).
  function firstLayerGradient(hidden) {
    let gradient = Float64Array.of(1);
    for (let l = layers.length - 1; l >= 1; l--) {
      const layer = layers[l];
      const back = new Float64Array(layer.columns);
      for (let i = 0; i < layer.rows; i++) {
        const row = i * layer.columns;
        for (let j = 0; j < layer.columns; j++) back[j] += gradient[i] * layer.W[row + j];
      }
      gradient = back.map((value, j) => (hidden[l - 1][j] > 0 ? value : 0)); // ReLU off: 0
    }
    return gradient;
  }

  // The side of a convolution's output from an input of side x side: 'same' keeps it.
  function convolvedSide(layer, side) {
    return side + layer.before + layer.after - layer.f + 1;
  }

  // The convolution of a (side, side, n_C_prev), stride 1, as cnn.forward's: each output's sum
  // over its window in the order of im2col's row (filter row, column, channel), where an entry
  // the window finds outside a is the padding's 0 and adds nothing; + b when withBias.
  function convolve(layer, a, side, withBias) {
    const { W, f, inputs, outputs, before } = layer;
    const out = convolvedSide(layer, side);
    const z = new Float64Array(out * out * outputs); // (out, out, n_C)
    for (let i = 0; i < out; i++) {
      for (let j = 0; j < out; j++) {
        const at = (i * out + j) * outputs;
        for (let p = 0; p < f; p++) {
          const row = i + p - before;
          if (row < 0 || row >= side) continue;
          for (let q = 0; q < f; q++) {
            const column = j + q - before;
            if (column < 0 || column >= side) continue;
            for (let c = 0; c < inputs; c++) {
              const value = a[(row * side + column) * inputs + c];
              const w = ((p * f + q) * inputs + c) * outputs;
              for (let k = 0; k < outputs; k++) z[at + k] += value * W[w + k];
            }
          }
        }
        if (withBias) for (let k = 0; k < outputs; k++) z[at + k] += layer.b[k];
      }
    }
    return z;
  }

  // The convolution's backward pass to its input: dz (out, out, n_C) -> da (side, side,
  // n_C_prev), every output's dz sent back through W to the entries its window read.
  function convolveBack(layer, dz, side) {
    const { W, f, inputs, outputs, before } = layer;
    const out = convolvedSide(layer, side);
    const da = new Float64Array(side * side * inputs);
    for (let i = 0; i < out; i++) {
      for (let j = 0; j < out; j++) {
        const at = (i * out + j) * outputs;
        for (let p = 0; p < f; p++) {
          const row = i + p - before;
          if (row < 0 || row >= side) continue; // the padding's gradient is dropped
          for (let q = 0; q < f; q++) {
            const column = j + q - before;
            if (column < 0 || column >= side) continue;
            for (let c = 0; c < inputs; c++) {
              const w = ((p * f + q) * inputs + c) * outputs;
              let sum = 0;
              for (let k = 0; k < outputs; k++) sum += dz[at + k] * W[w + k];
              da[(row * side + column) * inputs + c] += sum;
            }
          }
        }
      }
    }
    return da;
  }

  // Max-pooling a (side, side, channels) by f x f windows of stride f: (floor(side / f), ...,
  // channels); rows and columns past the last whole window are left out, as pool_forward does.
  function maxPool(a, side, channels, f) {
    const out = Math.floor(side / f);
    const pooled = new Float64Array(out * out * channels).fill(-Infinity);
    forWindows(side, channels, f, (from, to) => {
      pooled[to] = Math.max(pooled[to], a[from]);
    });
    return pooled;
  }

  // Back through the max-pool: each window's gradient to every entry equal to its maximum, ties
  // included (the course's create_mask_from_window), 0 elsewhere.
  function maxPoolBack(dPooled, a, pooled, side, channels, f) {
    const da = new Float64Array(side * side * channels);
    forWindows(side, channels, f, (from, to) => {
      if (a[from] === pooled[to]) da[from] = dPooled[to];
    });
    return da;
  }

  // visit(from, to) for every entry `from` of a (side, side, channels) that lies in a whole
  // f x f window, `to` its window's place in the pooled (out, out, channels).
  function forWindows(side, channels, f, visit) {
    const out = Math.floor(side / f);
    for (let row = 0; row < out * f; row++) {
      for (let column = 0; column < out * f; column++) {
        const from = (row * side + column) * channels;
        const to = (Math.floor(row / f) * out + Math.floor(column / f)) * channels;
        for (let c = 0; c < channels; c++) visit(from + c, to + c);
      }
    }
  }

  // The CNN's forward pass from z1, its first convolution's output: z, and each block's side,
  // z, a = relu(z) and pooled a (or null) for the backward pass.
  function cnnForwardFrom(z1) {
    const blocks = [];
    let input = null;
    let side = size;
    for (const [l, layer] of convolutions.entries()) {
      const z = l === 0 ? z1 : convolve(layer, input, side, true);
      side = convolvedSide(layer, side);
      const a = z.map((value) => Math.max(0, value)); // ReLU
      const pooled = layer.pool > 1 ? maxPool(a, side, layer.outputs, layer.pool) : null;
      blocks.push({ side, z, a, pooled });
      input = pooled || a;
      if (pooled) side = Math.floor(side / layer.pool);
    }
    // the last block's output, (side, side, n_C) in C order, is already flattened row, column,
    // channel: the dense unit's input
    return { z: linear(layers[layers.length - 1], input)[0], blocks };
  }

  function cnnForward(x) {
    return cnnForwardFrom(convolve(convolutions[0], x, size, true));
  }

  // dz/dz1 (side, side, n_C): dz = 1 brought back from the dense unit to the first
  // convolution's output, through each max-pool's mask, each ReLU that was on and each later
  // convolution (as cnn.backward).
  function cnnFirstGradient(blocks) {
    let gradient = layers[layers.length - 1].W; // dz/d(the dense input), W (1, n)
    for (let l = blocks.length - 1; l >= 0; l--) {
      const { side, z, a, pooled } = blocks[l];
      const layer = convolutions[l];
      if (pooled) gradient = maxPoolBack(gradient, a, pooled, side, layer.outputs, layer.pool);
      gradient = gradient.map((value, j) => (z[j] > 0 ? value : 0)); // ReLU off: 0
      if (l > 0) {
        const previous = blocks[l - 1];
        const inputSide = previous.pooled ? Math.floor(previous.side / convolutions[l - 1].pool)
          : previous.side;
        gradient = convolveBack(layer, gradient, inputSide);
      }
    }
    return gradient;
  }

  // cnnGradientSum is gradientSum for a CNN. The first convolution is linear in its input, so
  // z1 at x̄ + α (x - x̄) is z1(x̄) + α conv(x - x̄) (no b), two convolutions a call instead of
  // one a point; and its backward pass is applied once, to the summed dz/dz1. The same sum as
  // explain.gradient_sum's up to rounding (1e-16), in a fraction of the time.
  function cnnGradientSum(difference, alphas) {
    const first = convolutions[0];
    const atBaseline = convolve(first, baseline, size, true);
    const step = convolve(first, difference, size, false);
    const summed = new Float64Array(atBaseline.length); // sum of dz/dz1 over the points
    const z1 = new Float64Array(atBaseline.length);
    for (const alpha of alphas) {
      for (let j = 0; j < z1.length; j++) z1[j] = atBaseline[j] + alpha * step[j];
      cnnFirstGradient(cnnForwardFrom(z1).blocks).forEach((value, j) => { summed[j] += value; });
    }
    return convolveBack(first, summed, size);
  }

  // The sum over alphas of dz/dx at x̄ + α (x - x̄), (n_x,), as explain.gradient_sum. The first
  // layer's backward is linear, so W1.T is applied once to the summed dz/dz1 rather than once
  // a point: the same sum up to rounding (1e-16), and half the work, as W1 is nearly all of it.
  function gradientSum(difference, alphas) {
    if (convolutions.length) return cnnGradientSum(difference, alphas);
    const first = layers[0];
    const summed = new Float64Array(first.rows); // sum of dz/dz1 over the points
    const point = new Float64Array(first.columns);
    for (const alpha of alphas) {
      for (let j = 0; j < point.length; j++) point[j] = baseline[j] + difference[j] * alpha;
      firstLayerGradient(forward(point).hidden).forEach((value, i) => { summed[i] += value; });
    }
    const total = new Float64Array(first.columns);
    for (let i = 0; i < first.rows; i++) {
      const row = i * first.columns;
      for (let j = 0; j < first.columns; j++) total[j] += summed[i] * first.W[row + j];
    }
    return total;
  }

  // Integrated gradients of x (n_x,) from x̄, as explain.explain: the trapezoid on 1 step (the
  // two ends, halved), then the midpoints of K steps added to make 2K, until the map's sum is
  // within tolerance of z - z(x̄) at two step counts in a row, or K reaches the cap. Two in a
  // row, as a line whose ends both lie where the network is flat agrees at one step by chance.
  function explain(x) {
    const { tolerance, max_steps: maxSteps } = calibration.map;
    const z = score(x);
    const zBaseline = score(baseline);
    const change = z - zBaseline;
    const difference = x.map((value, j) => value - baseline[j]);
    let total = gradientSum(difference, [0, 1]).map((value) => value / 2);
    let steps = 1;
    let agreed = 0;
    for (;;) {
      const contributions = difference.map((d, j) => d * (total[j] / steps)); // (n_x,)
      const gap = Math.abs(contributions.reduce((sum, value) => sum + value, 0) - change);
      agreed = gap <= tolerance * Math.abs(change) ? agreed + 1 : 0;
      if (agreed === 2 || steps >= maxSteps) return { contributions, z, zBaseline, steps, gap };
      const midpoints = Array.from({ length: steps }, (_, k) => (k + 0.5) / steps);
      const added = gradientSum(difference, midpoints);
      total = total.map((value, j) => value + added[j]);
      steps *= 2;
    }
  }

  // The map as an image (size x size): each pixel's three colours summed, as explain.colour_sum.
  function colourSum(contributions) {
    const summed = new Float64Array(size * size);
    for (let pixel = 0; pixel < size * size; pixel++) {
      summed[pixel] = contributions[pixel * 3] + contributions[pixel * 3 + 1] +
        contributions[pixel * 3 + 2];
    }
    return summed;
  }

  // Red pushes towards the positive class, blue away, white is nothing: as weights.png.
  function heatMap(contribution) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const context = canvas.getContext("2d");
    const image = context.createImageData(size, size);
    let limit = 0;
    for (const value of contribution) limit = Math.max(limit, Math.abs(value));
    contribution.forEach((value, pixel) => {
      const t = limit ? value / limit : 0; // in [-1, 1]
      const fade = Math.round(255 * (1 - Math.abs(t)));
      image.data.set(t >= 0 ? [255, fade, fade, 255] : [fade, fade, 255, 255], pixel * 4);
    });
    context.putImageData(image, 0, 0);
    canvas.dataset.map = base64FromFloat64(contribution); // the values drawn, exactly
    return canvas;
  }

  // The band of calibration.band_edges that max(p, 1 - p) falls in, as bands_of: the number of
  // edges at or below it, less one, kept within the bands (1.0 falls in the last).
  function bandOf(p) {
    const confidence = Math.max(p, 1 - p);
    const edges = calibration.band_edges;
    const below = edges.filter((edge) => edge <= confidence).length - 1;
    return Math.min(Math.max(below, 0), edges.length - 2);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // names are text, never HTML
    return node;
  }

  // One line of numbers: the map's sum beside what it shares out, z - z(x̄), and for a network
  // the steps taken and the gap they leave.
  function mapSentence(explanation) {
    const total = explanation.contributions.reduce((sum, value) => sum + value, 0);
    const change = explanation.z - explanation.zBaseline;
    const sums = `The map sums to ${total.toFixed(4)}; z - z(x̄) = ${change.toFixed(4)}`;
    if (oneNeuron) return `${sums}: exact, w (x - x̄).`;
    const share = change ? ` (${(100 * explanation.gap / Math.abs(change)).toFixed(2)} %)` : "";
    const capped = explanation.steps >= calibration.map.max_steps ? ", the most it takes," : "";
    return `${sums}: ${explanation.steps} steps of integrated gradients${capped} leave a gap ` +
      `of ${explanation.gap.toPrecision(2)}${share}.`;
  }

  // The numbers a test reads, exact, as data- attributes of the box (nothing shown).
  function record(box, explanation) {
    const total = explanation.contributions.reduce((sum, value) => sum + value, 0);
    box.dataset.z = explanation.z.toPrecision(17);
    box.dataset.zBaseline = explanation.zBaseline.toPrecision(17);
    box.dataset.mapSum = total.toPrecision(17);
    box.dataset.steps = explanation.steps;
    box.dataset.gap = explanation.gap.toPrecision(17);
  }

  function figure(node, title) {
    const figure = element("figure");
    figure.append(node, element("figcaption", "", title));
    return figure;
  }

  function resultFor(file, input, z, explanation) {
    const p = sigmoid(z);
    const label = p > model.threshold ? model.classes[1] : model.classes[0];
    const box = element("div", "photo-result");
    box.dataset.file = file.name;
    box.dataset.probability = p.toPrecision(17);
    box.dataset.label = label;
    box.append(element("p", "answer", `${file.name}: ${label}`));
    const photo = element("img", "photo");
    photo.src = URL.createObjectURL(file);
    photo.alt = file.name;
    const seer = oneNeuron ? "neuron" : "network";
    const figures = [figure(photo, "your photo"),
                     figure(input, `what the ${seer} sees (${size}x${size})`)];
    if (!calibration) {
      box.append(element("p", "", `p(${model.classes[1]}) = ${p.toFixed(3)} (raw, not ` +
                          "calibrated)"),
                 element("p", "map-sum", "No map: it is measured from the mean training " +
                         "image, which `make calibrate` saves with the calibration (then " +
                         "`make report`)."));
      box.append(...figures);
      return box;
    }
    const calibrated = sigmoid(z / calibration.temperature);
    box.dataset.calibrated = calibrated.toPrecision(17);
    record(box, explanation);
    const shares = oneNeuron ? "w (x - x̄)" : "integrated gradients from x̄";
    figures.push(figure(heatMap(colourSum(explanation.contributions)),
                        `${shares}: red towards ${model.classes[1]}, blue away`));
    box.append(element("p", "calibrated", `p(${model.classes[1]}) = ${calibrated.toFixed(3)} ` +
                       `calibrated (raw ${p.toFixed(3)})`),
               element("p", "sentence", calibration.sentences[bandOf(calibrated)]),
               element("p", "map-sum", mapSentence(explanation)), ...figures);
    return box;
  }

  function errorFor(file) {
    const box = element("div", "photo-error",
                        `${file.name}: your browser cannot read this file as an image, so it ` +
                        "was not classified.");
    box.dataset.file = file.name;
    return box;
  }

  async function classify(files) {
    for (const file of files) {
      let input;
      try {
        input = await modelInput(file);
      } catch { // not an image this browser decodes: say so, and go on with the rest
        results.prepend(errorFor(file));
        continue;
      }
      const x = inputOf(input.getContext("2d").getImageData(0, 0, size, size).data);
      results.prepend(resultFor(file, input, score(x), baseline && explain(x)));
    }
  }

  const picker = document.getElementById("photo-input");
  picker.addEventListener("change", async () => {
    await classify([...picker.files]);
    picker.value = ""; // the same photo can be chosen again
  });
  const zone = document.getElementById("drop-zone");
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    classify([...event.dataTransfer.files]);
  });
  // A photo dropped beside the zone must not replace the page with itself.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
})();
