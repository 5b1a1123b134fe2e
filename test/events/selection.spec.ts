import { strict as assert } from 'node:assert';
import { EventSelection, type OnvifEvent } from '../../lib';

const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';

function motion(operation: OnvifEvent['operation'], isMotion: boolean, source = '1'): OnvifEvent {
  return { topic: MOTION, operation, source: { VideoSourceConfigurationToken: source }, key: {}, data: { IsMotion: isMotion }, time: '2026-01-01T00:00:00Z' };
}

describe('events: which events go out (EventSelection)', () => {
  it('only changes: per property instance, a repeated value is dropped; key order does not matter', () => {
    const selection = new EventSelection({ dropInitialized: false, dropDeleted: false, onlyChanges: true });
    const accepted = [motion('Initialized', false), motion('Changed', false), motion('Changed', true), motion('Changed', false, '2'), motion('Changed', true)].map((e) => selection.accept(e));
    assert.deepEqual(accepted, [true, false, true, true, false]);
    const reordered = { ...motion('Changed', true), data: { B: 1, A: 2 } };
    assert.equal(selection.accept(reordered), true);
    assert.equal(selection.accept({ ...reordered, data: { A: 2, B: 1 } }), false);
  });

  it('drops Initialized (still remembering its value) and Deleted when asked; after Deleted the old value is news again', () => {
    const selection = new EventSelection({ dropInitialized: true, dropDeleted: true, onlyChanges: true });
    assert.equal(selection.accept(motion('Initialized', false)), false);
    assert.equal(selection.accept(motion('Changed', false)), false, 'the value the Initialized carried is not news');
    assert.equal(selection.accept(motion('Deleted', false)), false);
    assert.equal(selection.accept(motion('Changed', false)), true);
    const all = new EventSelection({ dropInitialized: false, dropDeleted: false, onlyChanges: false });
    assert.deepEqual([motion('Initialized', true), motion('Changed', true), motion('Deleted', true)].map((e) => all.accept(e)), [true, true, true]);
  });
});
