// The report page's own classifier: the neuron's w and b, embedded in this page as data, applied
// in the browser to the photos a person chooses or drops. It sends nothing anywhere, and the
// page's Content-Security-Policy forbids any request (default-src 'none').
//
// Per photo, as scripts/classify.py does: decode upright (EXIF orientation), center-crop to a
// square, resize to the model's size on a white background, flatten in the training order (row,
// column, channel), divide by 255, z = w.x + b in float64, p = sigmoid(z).
"use strict";

(function () {
  const model = JSON.parse(document.getElementById("model").textContent);
  const size = model.image_shape[0]; // square images, 3 channels
  const w = float64FromBase64(model.w_base64); // (n_x,), little-endian float64 like NumPy's
  const results = document.getElementById("photo-results");

  function float64FromBase64(text) {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return new Float64Array(bytes.buffer);
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

  // z = w.x + b, and each pixel's share of it (w * x summed over the three channels).
  function score(rgba) {
    const contribution = new Float64Array(size * size);
    let z = model.b;
    for (let pixel = 0; pixel < size * size; pixel++) {
      let sum = 0;
      for (let channel = 0; channel < 3; channel++) {
        sum += w[pixel * 3 + channel] * (rgba[pixel * 4 + channel] / 255);
      }
      contribution[pixel] = sum;
      z += sum;
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
    box.append(element("p", "answer", `${file.name}: ${label}`),
               element("p", "", `p(${model.classes[1]}) = ${result.p.toFixed(3)}`));
    for (const [node, title] of [[photo, "your photo"],
                                 [input, `what the neuron sees (${size}x${size})`],
                                 [map, "w * x: red towards " + model.classes[1] + ", blue away"]]) {
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
