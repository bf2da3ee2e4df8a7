/** Checks of a drawn scene shared by the suite-v1 and suite-v2 drawing tests. */
import assert from 'node:assert/strict';
import { type GeneratedTask, IMAGE_SIZE, PALETTE, type PerceptualSettings, shapeContains } from '../../../src/trainer/tasks/index.js';
import { colourDistance, noiseTolerance, shapeArea } from './helpers.js';

/**
 * Every pixel the mask gives to an object lies inside its shape and has its palette colour within the noise
 * bound of `settings`, and no object is hidden beyond `settings.maxOccludedFraction` of its area.
 */
export function assertObjectPixels({ task, visibleObject }: GeneratedTask, settings: PerceptualSettings, label: string): void {
  const visible = new Array<number>(task.objects.length).fill(0);
  for (let pixel = 0; pixel < visibleObject.length; pixel++) {
    const owner = visibleObject[pixel] - 1;
    if (owner < 0) continue;
    visible[owner]++;
    const object = task.objects[owner];
    const x = pixel % IMAGE_SIZE;
    const y = Math.floor(pixel / IMAGE_SIZE);
    assert.ok(shapeContains(object.shape, x - object.centreX, y - object.centreY, object.halfSize), `${label}: mask outside its shape`);
    const distance = colourDistance(task.image.rgb, pixel * 3, PALETTE[object.colour]);
    assert.ok(distance <= noiseTolerance(settings), `${label}: ${object.colour} pixel ${distance.toFixed(1)} away`);
  }
  task.objects.forEach((object, i) => {
    const minimum = Math.ceil(shapeArea(object) * (1 - settings.maxOccludedFraction));
    assert.ok(visible[i] >= minimum, `${label}: object ${i} shows ${visible[i]} of ${shapeArea(object)} pixels`);
  });
}
