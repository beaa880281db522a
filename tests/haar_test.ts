import assert from "node:assert/strict";
import {
  detectMultiScale,
  detectRaw,
  type GrayImage,
  groupRectangles,
  type HaarCascade,
  type HaarDetection,
  integralImages,
  loadCascade,
  parseCascade,
  parseXml,
  rgbaToGray,
} from "../demo/haar.ts";
import { haarDetector, sampleImages } from "../demo/detect.ts";
import { readImage, rgbaOf } from "../demo/image_demo.ts";
import { iou } from "../demo/track.ts";
import { skipWithout } from "./_required_tools.ts";

// An 8x8 cascade with one stump: "right half brighter than the whole window" (a vertical edge).
const NEW_XML = `<?xml version="1.0"?>
<opencv_storage>
<!-- a tiny edge detector -->
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>8</height>
  <width>8</width>
  <stageNum>1</stageNum>
  <stages>
    <_>
      <maxWeakCount>1</maxWeakCount>
      <stageThreshold>0.</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>
            0 -1 0 1.0</internalNodes>
          <leafValues>
            -1. 1.</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_>
      <rects>
        <_>
          0 0 8 8 -1.</_>
        <_>
          4 0 4 8 2.</_></rects></_></features></cascade>
</opencv_storage>`;

const OLD_XML = `<?xml version="1.0"?>
<opencv_storage>
<edge type_id="opencv-haar-classifier">
  <size>8 8</size>
  <stages>
    <_>
      <trees>
        <_>
          <_>
            <feature>
              <rects>
                <_>0 0 8 8 -1.</_>
                <_>4 0 4 8 2.</_></rects>
              <tilted>0</tilted></feature>
            <threshold>1.0</threshold>
            <left_val>-1.</left_val>
            <right_val>1.</right_val></_></_></trees>
      <stage_threshold>0.</stage_threshold>
      <parent>-1</parent>
      <next>-1</next></_></stages></edge>
</opencv_storage>`;

function edgeImage(w: number, h: number, edgeX: number): GrayImage {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = edgeX; x < w; x++) data[y * w + x] = 255;
  return { width: w, height: h, data };
}

/** Every node of a cascade with its feature's rectangles resolved (formats number features differently). */
function resolved(c: HaarCascade) {
  return {
    width: c.width,
    height: c.height,
    stages: c.stages.map((s) => ({
      threshold: s.threshold,
      trees: s.trees.map((t) => ({
        leaves: t.leaves,
        nodes: t.nodes.map((n) => ({
          rects: c.features[n.feature].rects,
          threshold: n.threshold,
          left: n.left,
          right: n.right,
        })),
      })),
    })),
  };
}

/** Write a cascade in the old `opencv-haar-classifier` format (test-only serializer). */
function toOldXml(c: HaarCascade): string {
  const stages = c.stages.map((s) => {
    const trees = s.trees.map((t) => {
      const nodes = t.nodes.map((n) => {
        const rects = c.features[n.feature].rects.map((r) =>
          `<_>${r.x} ${r.y} ${r.width} ${r.height} ${r.weight}</_>`
        ).join("");
        const side = (w: string, v: number) =>
          v < 0 ? `<${w}_val>${t.leaves[-v - 1]}</${w}_val>` : `<${w}_node>${v}</${w}_node>`;
        return `<_><feature><rects>${rects}</rects><tilted>0</tilted></feature><threshold>${n.threshold}</threshold>${
          side("left", n.left)
        }${side("right", n.right)}</_>`;
      }).join("");
      return `<_>${nodes}</_>`;
    }).join("");
    return `<_><trees>${trees}</trees><stage_threshold>${s.threshold}</stage_threshold></_>`;
  }).join("");
  return `<opencv_storage><x type_id="opencv-haar-classifier"><size>${c.width} ${c.height}</size><stages>${stages}</stages></x></opencv_storage>`;
}

Deno.test("XML reader: elements, attributes, text, comments, entities and errors", () => {
  const x = parseXml(
    `<?xml version="1.0"?><!-- c --><a k="v &amp; w"><b>1 2</b><c/><d><![CDATA[<raw>]]></d></a>`,
  );
  assert.equal(x.name, "a");
  assert.equal(x.attrs.k, "v & w");
  assert.deepEqual(x.children.map((c) => c.name), ["b", "c", "d"]);
  assert.equal(x.children[0].text, "1 2");
  assert.equal(x.children[2].text, "<raw>");
  assert.throws(() => parseXml("<a><b></a>", "f.xml"), /f\.xml: <\/a> .* does not close <b>/);
  assert.throws(() => parseXml("<a>", "f.xml"), /f\.xml: <a> is never closed/);
});

Deno.test("cascade parsing: new and old formats agree; bad cascades are named", () => {
  const a = parseCascade(NEW_XML, "new.xml");
  const b = parseCascade(OLD_XML, "old.xml");
  assert.deepEqual(resolved(a), resolved(b));
  assert.equal(a.stages[0].trees[0].nodes[0].left, -1, "leaf 0");
  assert.equal(a.stages[0].trees[0].nodes[0].right, -2, "leaf 1");
  assert.throws(
    () => parseCascade(NEW_XML.replace("HAAR", "LBP"), "lbp.xml"),
    /lbp\.xml: featureType LBP is not supported/,
  );
  assert.throws(
    () => parseCascade(NEW_XML.replace("0 -1 0 1.0", "0 -1 3 1.0"), "idx.xml"),
    /idx\.xml: feature index 3 is out of range/,
  );
  assert.throws(
    () => parseCascade(OLD_XML.replace("<tilted>0", "<tilted>1"), "t.xml"),
    /t\.xml: tilted features/,
  );
  assert.throws(
    () => parseCascade(NEW_XML.replace("4 0 4 8 2.", "4 0 5 8 2."), "r.xml"),
    /outside the 8x8 window/,
  );
});

Deno.test("cascade evaluation: integral images, variance normalisation, multi-scale windows", () => {
  const ii = integralImages({ width: 2, height: 2, data: Float32Array.from([1, 2, 3, 4]) });
  assert.deepEqual([...ii.sum], [0, 0, 0, 0, 1, 3, 0, 4, 10]);
  assert.deepEqual([...ii.sqsum], [0, 0, 0, 0, 1, 5, 0, 10, 30]);
  const c = parseCascade(NEW_XML);
  const img = edgeImage(40, 24, 20);
  const raw = detectRaw(c, img, { scaleFactor: 1.3 });
  assert.ok(raw.length > 0, "the edge is found");
  // Hits straddle the edge (give or take the pixel that resampling blurs at coarser scales).
  for (const r of raw) {
    assert.ok(r.x < 21 && r.x + r.width > 19, `hit ${JSON.stringify(r)} straddles the edge`);
  }
  assert.ok(raw.some((r) => r.x === 16 && r.width === 8), "the full-resolution window centred on the edge");
  assert.ok(raw.some((r) => r.width > 8), "larger scales are searched too");
  // A flat image has no variance: every window is rejected.
  assert.equal(detectRaw(c, { width: 40, height: 24, data: new Float32Array(40 * 24).fill(90) }).length, 0);
  // The mirror image (dark right half) fails the stump everywhere.
  const mirror = edgeImage(40, 24, 20);
  mirror.data.forEach((v, i) => (mirror.data[i] = 255 - v));
  assert.equal(detectRaw(c, mirror).length, 0);
  // Old and new formats detect the same windows.
  assert.deepEqual(detectRaw(parseCascade(OLD_XML), img, { scaleFactor: 1.3 }), raw);
  const gray = rgbaToGray({ width: 1, height: 1, data: Uint8Array.from([255, 0, 0, 255]) });
  assert.equal(gray.data[0], 76, "OpenCV's BGR2GRAY weights, rounded");
});

Deno.test("groupRectangles: clusters need more than minNeighbors hits; nested boxes are dropped", () => {
  const r = (x: number, y: number, w: number): HaarDetection => ({ x, y, width: w, height: w, neighbors: 1 });
  const six = [
    r(100, 100, 50),
    r(102, 101, 50),
    r(99, 98, 52),
    r(101, 100, 48),
    r(100, 103, 50),
    r(98, 100, 50),
  ];
  const out = groupRectangles([...six, r(400, 400, 30)], 5);
  assert.equal(out.length, 1);
  assert.equal(out[0].neighbors, 6);
  assert.deepEqual([out[0].x, out[0].y, out[0].width], [100, 100, 50]);
  assert.equal(groupRectangles(six.slice(0, 5), 5).length, 0, "5 hits are not more than 5");
  // A weak box inside a strong one goes.
  const inner = [r(110, 110, 20), r(111, 110, 20)];
  const both = groupRectangles([...six, ...inner], 1);
  assert.deepEqual(both.map((b) => b.neighbors), [6]);
});

const CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
const OLD_CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_licence_plate_rus_16stages.xml";
let hasCascade = false;
try {
  hasCascade = Deno.statSync(CASCADE).isFile;
} catch { /* not installed */ }

Deno.test({
  name: "OpenCV frontal-face cascade on sample1.jpg matches OpenCV 4.6 (needs Debian opencv-data)",
  ignore: skipWithout(hasCascade, `OpenCV cascade tests need ${CASCADE} (apt-get install opencv-data)`),
  fn: async () => {
    const c = await loadCascade(CASCADE);
    assert.equal(c.width, 24);
    assert.equal(c.stages.length, 25);
    // The same cascade re-written in the old format parses to the same classifier.
    assert.deepEqual(resolved(parseCascade(toOldXml(c))), resolved(c));
    // A real old-format file from the package (a chain of stages with parent/next).
    const plate = await loadCascade(OLD_CASCADE);
    assert.equal(plate.stages.length, 16);
    const img = rgbaOf(await readImage(sampleImages()[0]));
    const found = await haarDetector(c).detect(img);
    // cv2.CascadeClassifier(CASCADE).detectMultiScale(gray, 1.3, 5) with python3-opencv 4.6.0 on this
    // image returns exactly these boxes.
    const opencv = [{ x: 361, y: 352, width: 262, height: 262 }, {
      x: 1464,
      y: 568,
      width: 130,
      height: 130,
    }];
    assert.equal(found.length, opencv.length);
    for (const ref of opencv) {
      const best = Math.max(...found.map((f) => iou(f, ref)));
      assert.ok(best > 0.9, `a box matches OpenCV's ${JSON.stringify(ref)} (IoU ${best.toFixed(3)})`);
    }
    assert.deepEqual(
      detectMultiScale(c, rgbaToGray({ width: 30, height: 30, data: new Uint8Array(3600) }), {
        scaleFactor: 1.3,
        minNeighbors: 5,
      }),
      [],
    );
  },
});
