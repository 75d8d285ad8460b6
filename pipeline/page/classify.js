// The report page's own classifier: the model's layers, embedded in this page as data, applied
// in the browser to the photos a person chooses or drops. It sends nothing anywhere, and the
// page's Content-Security-Policy forbids any request (default-src 'none').
//
// Per photo, as scripts/classify.py does: decode upright (EXIF orientation), center-crop to a
// square, resize to the model's size on a white background, flatten in the training order (row,
// column, channel), divide by 255; then, in float64, each hidden layer a = relu(W a + b) and the
// last z = W a + b, p = sigmoid(z), as params.scores. One neuron is the one-layer case, W = w.T.
"use strict";

(function () {
  const model = JSON.parse(document.getElementById("model").textContent);
  const size = model.image_shape[0]; // square images, 3 channels
  const layers = model.layers.map((layer) => ({ // W (n_out, n_in) row by row, b (n_out,)
    W: float64FromBase64(layer.W_base64, layer.shape[0] * layer.shape[1]),
    rows: layer.shape[0], columns: layer.shape[1], b: Float64Array.from(layer.b),
  }));
  const oneNeuron = layers.length === 1;
  // The run's calibration, when the report had one: p = sigmoid(z / T), and the sentence of the
  // answer's confidence band, written by Python (evaluation.calibration.band_sentences).
  const calibrationNode = document.getElementById("calibration");
  const calibration = calibrationNode ? JSON.parse(calibrationNode.textContent) : null;
  const results = document.getElementById("photo-results");

  // Little-endian float64, as NumPy's "<f8" bytes.
  function float64FromBase64(text, length) {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const values = new Float64Array(bytes.buffer);
    if (values.length !== length) throw new Error("the embedded model is damaged");
    return values;
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

  // The forward pass, then each pixel's share of z: the input x gradient, sum over channels of
  // dz/dx * x. dz/dx comes back from the last layer's row through each ReLU that was on; for
  // one neuron it is w, and the shares are w * x.
  function score(rgba) {
    const x = new Float64Array(size * size * 3);
    for (let pixel = 0; pixel < size * size; pixel++) {
      for (let channel = 0; channel < 3; channel++) {
        x[pixel * 3 + channel] = rgba[pixel * 4 + channel] / 255;
      }
    }
    const hidden = []; // each hidden layer's z, for the ReLUs' on/off on the way back
    let a = x;
    for (const layer of layers.slice(0, -1)) {
      const z = linear(layer, a);
      hidden.push(z);
      a = z.map((value) => Math.max(0, value)); // ReLU
    }
    const last = layers[layers.length - 1]; // n_out = 1
    const z = linear(last, a)[0];

    let gradient = last.W.slice(0, last.columns); // dz/da of the last hidden layer (or of x)
    for (let l = layers.length - 2; l >= 0; l--) {
      const layer = layers[l];
      const back = new Float64Array(layer.columns);
      for (let i = 0; i < layer.rows; i++) {
        if (!(hidden[l][i] > 0)) continue; // ReLU off: nothing flows back through it
        const row = i * layer.columns;
        for (let j = 0; j < layer.columns; j++) back[j] += gradient[i] * layer.W[row + j];
      }
      gradient = back;
    }
    const contribution = new Float64Array(size * size);
    for (let pixel = 0; pixel < size * size; pixel++) {
      let sum = 0;
      for (let channel = 0; channel < 3; channel++) {
        sum += gradient[pixel * 3 + channel] * x[pixel * 3 + channel];
      }
      contribution[pixel] = sum;
    }
    return { z, p: sigmoid(z), contribution };
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

  function resultFor(file, input, result) {
    const label = result.p > model.threshold ? model.classes[1] : model.classes[0];
    const box = element("div", "photo-result");
    box.dataset.file = file.name;
    box.dataset.probability = result.p.toPrecision(17);
    box.dataset.label = label;
    const photo = element("img", "photo");
    photo.src = URL.createObjectURL(file);
    photo.alt = file.name;
    const map = heatMap(result.contribution);
    box.append(element("p", "answer", `${file.name}: ${label}`));
    if (calibration) {
      const calibrated = sigmoid(result.z / calibration.temperature);
      box.dataset.calibrated = calibrated.toPrecision(17);
      box.append(element("p", "calibrated", `p(${model.classes[1]}) = ${calibrated.toFixed(3)} ` +
                         `calibrated (raw ${result.p.toFixed(3)})`),
                 element("p", "sentence", calibration.sentences[bandOf(calibrated)]));
    } else {
      box.append(element("p", "", `p(${model.classes[1]}) = ${result.p.toFixed(3)} (raw, ` +
                         "not calibrated)"));
    }
    const seer = oneNeuron ? "neuron" : "network";
    const shares = oneNeuron ? "w * x" : "input x gradient";
    for (const [node, title] of [[photo, "your photo"],
                                 [input, `what the ${seer} sees (${size}x${size})`],
                                 [map, `${shares}: red towards ${model.classes[1]}, blue away`]]) {
      const figure = element("figure");
      figure.append(node, element("figcaption", "", title));
      box.append(figure);
    }
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
      let box;
      try {
        const input = await modelInput(file);
        const rgba = input.getContext("2d").getImageData(0, 0, size, size).data;
        box = resultFor(file, input, score(rgba));
      } catch (error) {
        box = errorFor(file);
      }
      results.prepend(box);
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
