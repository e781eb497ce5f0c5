// Public surface of the environments: what custom tasks and the actor loop import.
export { Physics, loadMujocoModule, compileModel, type ModelSource, type MjObjectKind } from './physics.js';
export { defineTask, observationSize, taskTiming, type TaskDefinition, type TaskLogic, type TaskSpec, type ObservationKey } from './task.js';
export { makeTask, registerTask, taskNames } from './registry.js';
export { tolerance, sigmoid, type Sigmoid } from './rewards.js';
export { randomizeLimitedAndRotationalJoints, placeWithoutContacts } from './randomizers.js';
export { TaskEnv, type EnvOptions, type RewardMode } from './env.js';
export { VectorEnv, type VectorEnvOptions, type VectorEnvBuffers } from './vector-env.js';
